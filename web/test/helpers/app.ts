import { pino } from 'pino'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createPool } from '../../src/db/pool.js'
import { migrate } from '../../src/db/migrate.js'
import { createRedis } from '../../src/cache/redis.js'
import { PgServer, RedisServer, serviceEnv, type PgOptions } from '../../dev/private-servers/index.js'

export interface TestStack {
  pg: PgServer
  redis: RedisServer
  /** Base URL of the app, listening on a free 127.0.0.1 port. */
  url: string
  app: Awaited<ReturnType<typeof buildApp>>
  close(): Promise<void>
}

/**
 * Private PostgreSQL and Redis, migrated, with the app listening on them. `databaseUrl` may send
 * the app to PostgreSQL another way (through a proxy that injects faults).
 */
export async function startStack(
  env: Record<string, string> = {},
  { databaseUrl, ...pgOptions }: PgOptions & { databaseUrl?: (pg: PgServer) => Promise<string> } = {}
): Promise<TestStack> {
  const [pgServer, redisServer] = await Promise.all([PgServer.start(pgOptions), RedisServer.start()])
  if (databaseUrl !== undefined) env = { DATABASE_URL: await databaseUrl(pgServer), ...env }
  // The app shares this process with the test runner, whose own work (generating fuzz input,
  // building large payloads) would count as the app's event-loop delay and memory: load shedding
  // is off here unless a test turns it on. Spawned services (spawnService) keep the defaults.
  const noShedding = { MAX_EVENT_LOOP_DELAY_MS: '0', MAX_HEAP_USED_MB: '0', MAX_RSS_MB: '0' }
  const config = loadConfig(serviceEnv(pgServer, redisServer, { ...noShedding, ...env }))
  const log = pino({ level: config.logLevel })
  const pool = createPool(config.database, config.dependencyTimeoutMs, log)
  const redis = createRedis(config.redis, config.dependencyTimeoutMs, log)
  await redis.connect()
  await migrate(pool, log)
  const app = await buildApp({ config, pool, redis, logger: log })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    pg: pgServer,
    redis: redisServer,
    url,
    app,
    async close() {
      await app.close()
      await pool.end().catch(() => undefined)
      redis.disconnect()
      await Promise.all([pgServer.destroy(), redisServer.destroy()])
    }
  }
}

/** A parsed JSON body, loosely typed so tests can walk into it (numbers need Number() to compute with). */
export type Json = { [key: string]: Json } & Json[]

/** fetch + JSON, for terse tests. */
export async function call(
  base: string,
  path: string,
  init: RequestInit & { json?: unknown } = {}
): Promise<{ status: number; body: Json; headers: Headers }> {
  const { json, ...rest } = init
  const headers = new Headers(rest.headers)
  if (json !== undefined) headers.set('content-type', 'application/json')
  const response = await fetch(base + path, {
    ...rest,
    headers,
    body: json !== undefined ? JSON.stringify(json) : rest.body
  })
  const text = await response.text()
  let body: unknown = text
  try {
    body = text === '' ? null : JSON.parse(text)
  } catch {
    // not JSON; keep the text
  }
  return { status: response.status, body: body as Json, headers: response.headers }
}

/** The homepage counter and the number of logged visits, read straight from PostgreSQL. */
export async function visitCounts(pg: PgServer): Promise<{ total: number; logged: number }> {
  const [row] = await pg.query<{ total: number; logged: number }>(
    "SELECT coalesce((SELECT total FROM visit_counter WHERE label = 'homepage'), 0)::int AS total, (SELECT count(*) FROM visits WHERE label = 'homepage')::int AS logged"
  )
  return row
}
