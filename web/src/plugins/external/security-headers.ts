import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { helmetHeaders } from './helmet-headers.js'

/**
 * What every answer carries. A JSON answer is never a document: with nosniff no browser renders it
 * as one, so it needs no document policy, only that nothing loads in it or frames it (a stricter
 * CSP than the pages') and that other sites cannot embed it. Every header costs every response:
 * helmet's eleven were about a sixth of the work of a cached read (docs/benchmarks.md).
 */
export const API_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'same-origin'
})

/** Helmet's headers for the HTML this service sends (the status page, /docs), computed once at start. */
export function documentHeaders(): Promise<Record<string, string>> {
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

const isHtml = (type: unknown): boolean => typeof type === 'string' && type.startsWith('text/html')

/**
 * Sets the API headers and the request id on every routed response, and helmet's full set on
 * every HTML one, whichever route sends it.
 */
export default fp(
  async function securityHeadersPlugin(app: FastifyInstance, { document }: { document: Record<string, string> }) {
    app.addHook('onRequest', (request, reply, done) => {
      reply.headers(API_HEADERS)
      reply.header('x-request-id', request.id)
      done()
    })
    // A callback rather than a promise: no promise and no extra microtask per request.
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (isHtml(reply.getHeader('content-type'))) reply.headers(document)
      done(null, payload)
    })
  },
  { name: 'security-headers' }
)
