// `npm run doctor`: checks, step by step, that this process can reach PostgreSQL and Redis
// (name resolution, TCP, a real protocol round trip) and says what to fix when it cannot.
import { lookup } from 'node:dns/promises'
import { connect } from 'node:net'
import pg from 'pg'
import { Redis } from 'ioredis'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { poolConfig } from '../db/pool.js'
import { failureReason } from '../dependency-failure.js'
import { selectOneAndVersion } from '../db/repositories/probes.js'

interface Row {
  service: string
  step: string
  ok: boolean
  detail: string
  fix?: string
}

const TIMEOUT_MS = 3000

function tcp(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: TIMEOUT_MS })
    socket.once('connect', () => {
      socket.destroy()
      resolve()
    })
    socket.once('timeout', () => {
      socket.destroy()
      reject(new Error('timed out'))
    })
    socket.once('error', reject)
  })
}

async function check(
  service: string,
  host: string,
  port: number,
  roundTrip: () => Promise<string>,
  fixes: Record<string, string>
): Promise<Row[]> {
  const rows: Row[] = []
  try {
    const { address } = await lookup(host)
    rows.push({ service, step: 'resolve', ok: true, detail: `${host} -> ${address}` })
  } catch (err) {
    rows.push({
      service,
      step: 'resolve',
      ok: false,
      detail: `${host}: ${failureReason(err, 'operator')}`,
      fix: fixes.resolve
    })
    return rows
  }
  try {
    await tcp(host, port)
    rows.push({ service, step: 'tcp', ok: true, detail: `${host}:${port} open` })
  } catch (err) {
    rows.push({
      service,
      step: 'tcp',
      ok: false,
      detail: `${host}:${port}: ${failureReason(err, 'operator')}`,
      fix: fixes.tcp
    })
    return rows
  }
  try {
    rows.push({ service, step: 'protocol', ok: true, detail: await roundTrip() })
  } catch (err) {
    rows.push({ service, step: 'protocol', ok: false, detail: failureReason(err, 'operator'), fix: fixes.protocol })
  }
  return rows
}

async function postgres(config: Config): Promise<string> {
  const client = new pg.Client({ ...poolConfig(config.database, TIMEOUT_MS), connectionTimeoutMillis: TIMEOUT_MS })
  await client.connect()
  try {
    const row = await selectOneAndVersion(client)
    return `select 1 -> ${row?.one} (PostgreSQL ${row?.version})`
  } finally {
    await client.end()
  }
}

async function redis(config: Config): Promise<string> {
  const { redis: r } = config
  const client = new Redis({
    host: r.host,
    port: r.port,
    username: r.username,
    password: r.password,
    db: r.db,
    tls: r.tls ? {} : undefined,
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
    return `PING -> ${await client.ping()}`
  } finally {
    client.disconnect()
  }
}

function table(rows: Row[]): string {
  const header = ['service', 'step', 'result', 'detail']
  const body = rows.map((r) => [r.service, r.step, r.ok ? 'ok' : 'FAIL', r.detail])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')
}

async function main(): Promise<number> {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`)
      return 2
    }
    throw err
  }
  const { database: d, redis: r } = config
  const rows = [
    ...(await check('db', d.host, d.port, () => postgres(config), {
      resolve: `No host "${d.host}". In Compose, run this inside the web container and check the db service is on the backend network; outside, set PGHOST or DATABASE_URL.`,
      tcp: `Nothing listens on ${d.host}:${d.port}. Is the db service up and healthy? (docker compose ps db; docker compose logs db)`,
      protocol:
        'PostgreSQL answered but refused the session: check PGUSER/PGPASSWORD/PGDATABASE (or DATABASE_URL) against the ones the volume was created with.'
    })),
    ...(await check('cache', r.host, r.port, () => redis(config), {
      resolve: `No host "${r.host}". In Compose, run this inside the web container; outside, set REDIS_HOST or REDIS_URL.`,
      tcp: `Nothing listens on ${r.host}:${r.port}. Is the cache service up and healthy? (docker compose ps cache; docker compose logs cache)`,
      protocol: "Redis answered but refused PING: check REDIS_PASSWORD (or REDIS_URL) matches the server's requirepass."
    }))
  ]
  console.log(table(rows))
  const failed = rows.filter((row) => !row.ok)
  for (const row of failed)
    console.log(`\n${row.service} ${row.step} failed. Likely fix: ${row.fix ?? 'see the detail above'}`)
  console.log(failed.length === 0 ? '\nall checks passed' : `\n${failed.length} check(s) failed`)
  return failed.length === 0 ? 0 : 1
}

process.exitCode = await main()
