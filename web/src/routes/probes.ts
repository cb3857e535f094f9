import { CacheProbe, DbProbe } from '../schemas/probes.js'
import { errorResponses } from '../schemas/common.js'
import type { App, RouteContext } from './route-context.js'

/** The seeds' round trips: web -> db and web -> cache and back. */
export function probeRoutes(app: App, { health, keyValue }: RouteContext): void {
  app.get(
    '/db',
    {
      schema: {
        summary: 'Round trip to PostgreSQL',
        tags: ['probes'],
        response: { 200: DbProbe, ...errorResponses(503) }
      }
    },
    async () => {
      const { time, version, latency_ms } = await health.roundTrip()
      return { status: 'ok' as const, time: time.toISOString(), version, latency_ms }
    }
  )

  // HEAD must change nothing (RFC 9110, a safe method): an explicit HEAD route, defined before the
  // GET one so Fastify does not derive HEAD from it, answers as GET would, without the probe write.
  app.head('/cache', { schema: { hide: true } }, (_request, reply) =>
    reply.type('application/json; charset=utf-8').send()
  )

  app.get(
    '/cache',
    {
      schema: {
        summary: 'Round trip to Redis',
        description: 'Writes the probe key `teste` = `ok` and reads it back.',
        tags: ['probes'],
        response: { 200: CacheProbe, ...errorResponses(503) }
      }
    },
    async () => ({ status: 'ok' as const, ...(await keyValue.probe()) })
  )
}
