import { hostname } from 'node:os'
import { Type } from 'typebox'
import { HealthBody } from '../schemas/health.js'
import type { App, RouteContext } from './route-context.js'

const Readiness = Type.Object({ status: Type.String(), db: Type.String(), cache: Type.String() })

export function healthRoutes(app: App, { health, metrics, config }: RouteContext, version: string): void {
  // A system call per request otherwise; a container's host name does not change while it runs.
  const host = hostname()
  app.get(
    '/health',
    {
      schema: {
        summary: 'Live checks of db and cache',
        description: '200 healthy; 503 degraded (Redis down, PostgreSQL answering) or unhealthy (PostgreSQL down).',
        tags: ['health'],
        response: { 200: HealthBody, 503: HealthBody }
      }
    },
    async (_request, reply) => {
      const [db, cache] = await Promise.all([health.db(), health.cache()])
      const status = db.status === 'down' ? 'unhealthy' : cache.status === 'down' ? 'degraded' : 'healthy'
      const { hits, misses } = metrics.cacheTotals
      return reply.code(status === 'healthy' ? 200 : 503).send({
        status,
        services: {
          web: { status: 'up' as const, version, uptime_s: Math.round(process.uptime()), host },
          db,
          cache
        },
        ...(config.stackImageNote === undefined ? {} : { stack_images: config.stackImageNote }),
        cache_stats: {
          hits,
          misses,
          hit_ratio: hits + misses === 0 ? null : Math.round((hits / (hits + misses)) * 1000) / 1000,
          near: health.nearCache()
        }
      })
    }
  )

  app.get(
    '/livez',
    {
      // Container health checks call this every few seconds; a log line each would drown the rest.
      logLevel: 'silent',
      schema: {
        summary: 'The process is alive (no dependency checked)',
        tags: ['health'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) }
      }
    },
    async () => ({ status: 'ok' as const })
  )

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Ready for traffic: PostgreSQL answers (Redis is optional)',
        tags: ['health'],
        response: { 200: Readiness, 503: Readiness }
      }
    },
    async (_request, reply) => {
      const [db, cache] = await Promise.all([health.db(), health.cache()])
      return reply
        .code(db.status === 'up' ? 200 : 503)
        .send({ status: db.status === 'up' ? 'ready' : 'not_ready', db: db.status, cache: cache.status })
    }
  )

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        tags: ['health'],
        response: {
          200: {
            description: 'Prometheus text exposition format',
            content: { [metrics.registry.contentType]: { schema: Type.String() } }
          }
        }
      }
    },
    async (request, reply) => {
      const { contentType, text } = await metrics.render(
        /application\/openmetrics-text/i.test(request.headers.accept ?? '')
      )
      return reply.type(contentType).send(text)
    }
  )
}
