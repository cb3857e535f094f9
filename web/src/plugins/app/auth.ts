import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { WRITE_METHODS } from './write-methods.js'

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** With API_TOKEN set, every write needs `Authorization: Bearer <API_TOKEN>`; reads stay open. */
export default fp(
  async function authPlugin(app: FastifyInstance, { token }: { token: string | undefined }) {
    if (token === undefined) return
    const expected = digest(token)
    app.addHook('onRequest', async (request: FastifyRequest, reply) => {
      if (!WRITE_METHODS.has(request.method)) return
      const header = request.headers.authorization ?? ''
      // The scheme name is case-insensitive (RFC 9110); the token is compared exactly.
      const given = /^bearer /i.test(header) ? header.slice(7) : ''
      // Compare digests so neither the length nor the content of the token leaks through timing.
      if (!timingSafeEqual(digest(given), expected)) {
        reply.header('www-authenticate', 'Bearer')
        return reply
          .code(401)
          .send({ error: 'unauthorized', message: 'This write needs the header Authorization: Bearer <API_TOKEN>' })
      }
    })
  },
  { name: 'auth' }
)
