import Fastify from 'fastify'
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet'

/**
 * The response headers @fastify/helmet sets for these options, computed once at start.
 *
 * The plugin builds helmet's middleware again on every request (parsing the CSP directives each
 * time, in two extra hooks); the headers do not depend on the request, so we let the plugin answer
 * one request here, keep what it set, and set that ourselves on every response.
 */
export async function helmetHeaders(options: FastifyHelmetOptions): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false })
  let headers: Record<string, string> = {}
  await probe.register(helmet, options)
  probe.get('/', async (_request, reply) => {
    // At this point only helmet's onRequest hooks have touched the raw response.
    headers = Object.fromEntries(
      Object.entries(reply.raw.getHeaders()).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(', ') : String(value)
      ])
    )
    return ''
  })
  await probe.inject({ method: 'GET', url: '/' })
  await probe.close()
  if (headers['content-security-policy'] === undefined)
    throw new Error('security headers: helmet set no Content-Security-Policy')
  return headers
}
