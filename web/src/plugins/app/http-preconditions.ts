import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { HttpError, badRequest } from '../../dependency-failure.js'

/**
 * What HTTP/1.1 requires before any route runs, answered in the service's own shape and headers:
 * a Host header (RFC 9112 §3.2) and no Expect other than 100-continue (RFC 9110 §10.1.1), which
 * Node answers by itself before the request reaches us.
 */
export default fp(
  async function httpPreconditions(app: FastifyInstance) {
    // A callback rather than a promise: no promise and no extra microtask per request.
    app.addHook('onRequest', (request, _reply, done) => {
      if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
        return done(badRequest('HTTP/1.1 requests must carry a Host header'))
      }
      const expect = request.headers.expect
      if (expect !== undefined && expect.toLowerCase() !== '100-continue') {
        return done(
          new HttpError(417, 'expectation_failed', 'The only Expect this server meets is 100-continue; drop the header')
        )
      }
      done()
    })
  },
  { name: 'http-preconditions' }
)
