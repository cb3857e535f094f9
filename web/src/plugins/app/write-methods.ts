/** The methods that change state: the ones the bearer token and the rate limit guard. */
export const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A GET that changes state (GET / counts a visit): rate-limited like a write. */
    countsAsWrite?: boolean
  }
}
