import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { registerErrorHandling } from './http-errors.js'

/** Every routed error and every unknown route leaves as {error, message}. */
export default fp(
  async function errorHandler(app: FastifyInstance) {
    registerErrorHandling(app)
  },
  { name: 'error-handler' }
)
