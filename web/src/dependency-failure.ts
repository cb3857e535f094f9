/** An error whose status code and message are safe to show to a client. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

export type Dependency = 'db' | 'cache'

const DEPENDENCY_MESSAGES: Record<Dependency, string> = {
  db: 'PostgreSQL is unavailable right now; the request was not applied. Try again shortly.',
  cache: 'Redis is unavailable right now; this route needs it. Try again shortly.'
}

/** A dependency failed; the client sees a 503 and a plain message, never the driver's error. */
export class DependencyError extends HttpError {
  constructor(
    readonly dependency: Dependency,
    override readonly cause: unknown
  ) {
    super(503, dependency === 'db' ? 'db_unavailable' : 'cache_unavailable', DEPENDENCY_MESSAGES[dependency])
    this.name = 'DependencyError'
  }
}

/**
 * PostgreSQL broke the connection while a visit was being committed and did not answer again in
 * time to tell whether the commit happened: the one case where the service cannot say "not applied".
 */
export const commitOutcomeUnknown = (): HttpError =>
  new HttpError(
    503,
    'db_outcome_unknown',
    'PostgreSQL stopped answering while this visit was being committed, so whether it was counted is unknown. Check GET /visits before trying again.'
  )

export const notFound = (message: string): HttpError => new HttpError(404, 'not_found', message)
export const conflict = (message: string): HttpError => new HttpError(409, 'conflict', message)
export const badRequest = (message: string): HttpError => new HttpError(400, 'bad_request', message)

/** Runs a dependency call and turns any failure into a DependencyError, keeping HttpErrors as they are. */
export async function guard<T>(dependency: Dependency, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof HttpError) throw err
    throw new DependencyError(dependency, err)
  }
}

/**
 * One line saying why a call to PostgreSQL or Redis failed.
 *
 * For an operator (start-up log, `npm run doctor`): the driver's code and message, which name the
 * user or address but never the password (e.g. 28P01 "password authentication failed for user ...").
 * For a client (/health): only the kind of failure, without addresses or user names.
 */
export function failureReason(err: unknown, audience: 'operator' | 'client'): string {
  const code = (err as { code?: unknown } | null | undefined)?.code
  const message = err instanceof Error ? err.message : String(err)
  if (audience === 'operator') {
    const short = message.slice(0, 160)
    return typeof code === 'string' && code !== '' && !short.includes(code) ? `${code}: ${short}` : short
  }
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running?)'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name does not resolve'
  if (!(err instanceof Error)) return 'unavailable'
  if (/timeout|timed out/i.test(message)) return 'timed out'
  if (/closed|not writeable|Connection is closed|Stream isn't writeable/i.test(message)) return 'not connected'
  if (/auth|password/i.test(message)) return 'authentication failed'
  return 'unavailable'
}
