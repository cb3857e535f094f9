import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { hostname } from 'node:os'
import { Type } from 'typebox'
import { errorResponses } from '../schemas/common.js'
import { RecentVisits, VisitTotal } from '../schemas/visits.js'
import { UI_DIR } from '../paths.js'
import type { App, RouteContext } from './route-context.js'

const HomeResponse = Type.Object({
  status: Type.Literal('ok'),
  visits: Type.Integer({ description: "this visit's number: the homepage total once it was committed" }),
  cached: Type.Boolean({ description: 'whether the cached total in Redis was updated too' }),
  db_time: Type.String({ format: 'date-time', description: 'PostgreSQL clock at commit' }),
  label: Type.String(),
  hostname: Type.String({ description: 'the web container that answered' })
})

function loadStatusPage(): string | null {
  const file = join(UI_DIR, 'index.html')
  return existsSync(file) ? readFileSync(file, 'utf8') : null
}

export function visitRoutes(app: App, { visits }: RouteContext): void {
  const statusPage = loadStatusPage()
  const host = hostname()

  // HEAD must change nothing (RFC 9110, a safe method): an explicit HEAD route, defined before the
  // GET one so Fastify does not derive HEAD from it, answers as GET would, without counting.
  app.head('/', { schema: { hide: true } }, (_request, reply) => reply.type('application/json; charset=utf-8').send())

  app.get(
    '/',
    {
      // Each call adds a row to the visit log: limited like a write when RATE_LIMIT_MAX is set.
      config: { countsAsWrite: true },
      schema: {
        summary: 'Count a homepage visit',
        description:
          'Commits one visit to PostgreSQL and returns its number. Browsers (Accept: text/html) get the status page; the visit counts either way.',
        tags: ['visits'],
        response: {
          200: {
            description: 'the visit, as JSON, or the status page for browsers',
            content: { 'application/json': { schema: HomeResponse }, 'text/html': { schema: Type.String() } }
          },
          ...errorResponses(429, 503)
        }
      }
    },
    async (request, reply) => {
      const visit = await visits.record()
      if (statusPage !== null && request.headers.accept?.includes('text/html')) {
        return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(statusPage)
      }
      return {
        status: 'ok' as const,
        visits: visit.visits,
        cached: visit.cached,
        db_time: visit.dbTime.toISOString(),
        label: 'homepage',
        hostname: host
      }
    }
  )

  app.get(
    '/visits',
    {
      schema: {
        summary: 'Read the homepage total without counting',
        description: 'Cache-aside: Redis first; on a miss PostgreSQL, then the cache is filled.',
        tags: ['visits'],
        response: { 200: VisitTotal, ...errorResponses(503) }
      }
    },
    () => visits.total()
  )

  app.get(
    '/visits/recent',
    {
      schema: {
        summary: 'The latest visits (time only)',
        tags: ['visits'],
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }) },
          { additionalProperties: false }
        ),
        response: { 200: RecentVisits, ...errorResponses(400, 503) }
      }
    },
    async (request) => {
      const rows = await visits.recent(request.query.limit)
      return { visits: rows.map((row) => ({ id: row.id, visited_at: row.visited_at.toISOString() })) }
    }
  )
}
