import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { helmetHeaders } from './helmet-headers.js'

/** Helmet's headers for this service, computed once at start. */
export function securityHeaders(): Promise<Record<string, string>> {
  return helmetHeaders({
    contentSecurityPolicy: {
      // Served over plain HTTP on a private network: asking browsers to upgrade to HTTPS would break it.
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        upgradeInsecureRequests: null
      }
    },
    strictTransportSecurity: false
  })
}

/** Sets the precomputed security headers and the request id on every routed response. */
export default fp(
  async function securityHeadersPlugin(app: FastifyInstance, { headers }: { headers: Record<string, string> }) {
    app.addHook('onRequest', (request, reply, done) => {
      reply.headers(headers)
      reply.header('x-request-id', request.id)
      done()
    })
  },
  { name: 'security-headers' }
)
