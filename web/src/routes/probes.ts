import { Type } from 'typebox'
import { guard } from '../errors.js'
import { errorResponses } from '../http/schemas.js'
import { round } from '../services/key-value.js'
import type { App, RouteContext } from './context.js'

const DbProbe = Type.Object({
  status: Type.Literal('ok'),
  time: Type.String({ format: 'date-time' }),
  version: Type.String(),
  latency_ms: Type.Number()
})

const CacheProbe = Type.Object({
  status: Type.Literal('ok'),
  key: Type.String(),
  value: Type.Union([Type.String(), Type.Null()]),
  latency_ms: Type.Number()
})

/** The seeds' round trips: web -> db and web -> cache and back. */
export function probeRoutes(app: App, { pool, keyValue }: RouteContext): void {
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
      const started = performance.now()
      const { rows } = await guard('db', () =>
        pool.query<{ time: Date; version: string }>(
          "SELECT now() AS time, current_setting('server_version') AS version"
        )
      )
      const row = rows[0]
      if (row === undefined) throw new Error('no row from PostgreSQL')
      return {
        status: 'ok' as const,
        time: row.time.toISOString(),
        version: row.version,
        latency_ms: round(performance.now() - started)
      }
    }
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
