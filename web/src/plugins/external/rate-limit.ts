import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import { WRITE_METHODS } from '../app/write-methods.js'

/**
 * Limits writes per client and minute (0 turns it off), counted visits (GET /) included: each
 * adds a row to the visit log. Other reads are never limited.
 */
export default fp(
  async function rateLimitPlugin(app: FastifyInstance, { max }: { max: number }) {
    if (max <= 0) return
    await app.register(rateLimit, {
      max,
      timeWindow: '1 minute',
      allowList: (request) => !WRITE_METHODS.has(request.method) && request.routeOptions.config.countsAsWrite !== true,
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: 'too_many_requests',
        message: `Rate limit of ${context.max} writes per minute (visits count as writes) exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`
      })
    })
  },
  { name: 'rate-limit' }
)
