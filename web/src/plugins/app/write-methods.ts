/** The methods that change state: the ones the bearer token and the rate limit guard. */
export const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
