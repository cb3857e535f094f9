// How often the page asks the service, and how long it waits for an answer.

export const POLL_MS = 3000
/** Users are refreshed every fifth poll (and on paging). */
export const USERS_EVERY = 5
export const REQUEST_TIMEOUT_MS = 8000
