// Guarantee 5: slow dependencies. Redis and then PostgreSQL stop answering (their processes are
// frozen with SIGSTOP: connections stay open, nothing comes back). Requests do not hang: bounded
// timeouts, then a clear 503 (or a 200 served from the other dependency), and the event loop
// stays responsive: /livez answers within 100 ms throughout.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { fork } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  PgServer,
  RedisServer,
  serviceEnv,
  Load,
  describeStats,
  type Outcome,
  type RequestSpec,
  stopAllLoads,
  eventually,
  spawnService,
  type ServiceProcess,
  call,
  LIVEZ_PROBE
} from '../helpers/index.js'

// A hung test fails instead of holding up the run.
const LIMIT_MS = 120_000

let pg: PgServer
let redis: RedisServer
let service: ServiceProcess
let frozenPg: number[] = []
let livezChild: ReturnType<typeof livezProbe> | undefined

// Redis commands time out after 1 s, PostgreSQL queries after 2 x DEPENDENCY_TIMEOUT_MS + 0.5 s.
const DEPENDENCY_TIMEOUT_MS = 2000
// A visit whose batch timed out is in doubt: the service then tries this long to read its receipt.
const VISIT_IN_DOUBT_WAIT_MS = 1000

before(async () => {
  ;[pg, redis] = await Promise.all([PgServer.start(), RedisServer.start()])
  service = await spawnService(
    serviceEnv(pg, redis, {
      DEPENDENCY_TIMEOUT_MS: String(DEPENDENCY_TIMEOUT_MS),
      VISIT_IN_DOUBT_WAIT_MS: String(VISIT_IN_DOUBT_WAIT_MS)
    })
  )
})
after(async () => {
  livezChild?.kill()
  await stopAllLoads()
  thawPostgres()
  redis?.resume()
  await service?.destroy()
  await Promise.all([pg?.destroy(), redis?.destroy()])
})

/** The backends of the postmaster: freezing only the postmaster would leave open sessions answering. */
function postgresChildren(root: number): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === root) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

function freezePostgres(): void {
  const root = pg.pid
  if (root === undefined) throw new Error('PostgreSQL is not running')
  // The postmaster first, so that it forks no new backend; then every backend it has.
  process.kill(root, 'SIGSTOP')
  frozenPg = [root]
  for (const pid of postgresChildren(root)) {
    process.kill(pid, 'SIGSTOP')
    frozenPg.push(pid)
  }
}

function thawPostgres(): void {
  for (const pid of frozenPg) {
    try {
      process.kill(pid, 'SIGCONT')
    } catch {
      // already gone
    }
  }
  frozenPg = []
}

/** Polls /livez every 50 ms from a process of its own (test/helpers/livez-probe.mjs). */
function livezProbe(): { stop(): Promise<number[]>; kill(): void } {
  const child = fork(LIVEZ_PROBE, [service.url], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  // Never let a forgotten probe keep the test process alive.
  child.unref()
  child.channel?.unref()
  const result = new Promise<number[]>((resolve, reject) => {
    child.once('message', (latencies) => resolve(latencies as number[]))
    child.once('exit', (code) => reject(new Error(`the /livez probe exited with ${code} before reporting`)))
  })
  result.catch(() => undefined)
  return {
    stop() {
      child.channel?.ref()
      child.send('stop')
      return result
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  }
}

async function timed(
  path: string,
  init: RequestInit & { json?: unknown } = {}
): Promise<{ status: number; error: string; ms: number }> {
  const started = performance.now()
  const { status, body } = await call(service.url, path, init)
  return { status, error: String(body?.error ?? ''), ms: Math.round(performance.now() - started) }
}

const MIX: RequestSpec[] = [
  { path: '/' },
  { path: '/cache/slow' },
  { path: '/users/2' },
  { path: '/visits' },
  { method: 'POST', path: '/cache', json: { key: 'slow', value: { ok: true } } },
  { path: '/users?limit=3' }
]

const summary = (name: string, latencies: number[]) => {
  const sorted = [...latencies].sort((a, b) => a - b)
  const at = (p: number) => Math.round(sorted[Math.floor((sorted.length - 1) * p)] ?? 0)
  return `${name}: ${sorted.length} samples, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`
}

test(
  'Redis frozen, then PostgreSQL frozen: bounded 503s, and /livez under 100 ms throughout',
  { timeout: LIMIT_MS },
  async () => {
    assert.equal((await call(service.url, '/cache', { method: 'POST', json: { key: 'slow', value: 1 } })).status, 201)
    await call(service.url, '/users/2') // cached, so it can be served while PostgreSQL is frozen
    const outcomes: Outcome[] = []
    const load = new Load({
      url: service.url,
      connections: 8,
      durationMs: 60_000,
      timeoutMs: 30_000,
      gapMs: 20,
      next: (n) => MIX[n % MIX.length],
      onOutcome: (o) => outcomes.push(o)
    })
    const livez = livezProbe()
    livezChild = livez
    await sleep(1000)

    // Redis stops answering: its connection stays open, commands get no reply.
    redis.pause()
    await sleep(300)
    const redisChecks = await Promise.all([
      timed('/cache/slow'),
      timed('/cache', { method: 'POST', json: { key: 'k', value: 1 } }),
      timed('/cache'),
      timed('/'),
      timed('/users/2'),
      timed('/visits'),
      timed('/health')
    ])
    await sleep(2000)
    const redisChecksLater = await Promise.all([timed('/cache/slow'), timed('/'), timed('/health')])
    redis.resume()
    const redisBackMs = await eventually(
      '/health 200 after Redis resumes',
      async () => (await call(service.url, '/health')).status === 200,
      10_000
    )
    // A Redis that only stalled never reconnects; the cache must still be used again, with nothing stale.
    const cacheBackMs = await eventually(
      'visit total and user reads served from Redis again',
      async () => {
        const [visits, users] = [await call(service.url, '/visits'), await call(service.url, '/users?limit=3')]
        return String(visits.body.cached) === 'true' && String(users.body.cached) === 'true'
      },
      10_000,
      250
    )
    // The load keeps counting: read the cached total first, then the database, which can only be ahead.
    const cachedTotal = Number((await call(service.url, '/visits')).body.total)
    const [dbTotal] = await pg.query<{ total: number }>("SELECT total::int FROM visit_counter WHERE label = 'homepage'")
    assert.ok(cachedTotal <= dbTotal.total && cachedTotal > 0, `cached total ${cachedTotal}, database ${dbTotal.total}`)

    // PostgreSQL stops answering.
    freezePostgres()
    await sleep(300)
    const pgChecks = await Promise.all([
      timed('/'),
      timed('/db'),
      timed('/users?limit=4'),
      timed('/visits/recent'),
      timed('/health'),
      timed('/users/2'),
      timed('/cache/slow')
    ])
    await sleep(1000)
    const pgChecksLater = await Promise.all([timed('/'), timed('/db'), timed('/readyz')])
    thawPostgres()
    const pgBackMs = await eventually(
      '/health 200 after PostgreSQL resumes',
      async () => (await call(service.url, '/health')).status === 200,
      15_000
    )
    await sleep(1000)

    const stats = await load.stop()
    const livezMs = await livez.stop()
    console.log(describeStats('slow dependencies (light load)', stats))
    console.log(
      `slow dependencies: Redis frozen: ${JSON.stringify(redisChecks)} then ${JSON.stringify(redisChecksLater)}; healthy ${redisBackMs} ms after resume, cache in use again after ${cacheBackMs} ms more`
    )
    console.log(
      `slow dependencies: PostgreSQL frozen: ${JSON.stringify(pgChecks)} then ${JSON.stringify(pgChecksLater)}; healthy ${pgBackMs} ms after resume`
    )
    console.log(summary('slow dependencies: /livez', livezMs))

    const [getKey, postKey, probe, visit, user, total, health] = redisChecks
    for (const check of [getKey, postKey, probe, redisChecksLater[0]]) {
      assert.equal(check.status, 503)
      assert.equal(check.error, 'cache_unavailable')
    }
    assert.equal(visit.status, 200, 'a visit is counted in PostgreSQL while Redis hangs')
    assert.equal(redisChecksLater[1].status, 200)
    assert.equal(user.status, 200, 'user reads fall back to PostgreSQL')
    assert.equal(total.status, 200)
    assert.equal(health.status, 503)
    assert.equal(redisChecksLater[2].status, 503)
    for (const check of [...redisChecks, ...redisChecksLater])
      assert.ok(check.ms < 3000, `bounded while Redis hangs: ${JSON.stringify(check)}`)

    const [pgVisit, db, users, recent, pgHealth, cachedUser, kv] = pgChecks
    for (const check of [db, users, recent, pgChecksLater[1]]) {
      assert.equal(check.status, 503, JSON.stringify(check))
      assert.equal(check.error, 'db_unavailable')
    }
    // A visit sent to the frozen server may have committed there: unless its batch never got a
    // connection, the service cannot say "not applied", and says the outcome is unknown.
    for (const check of [pgVisit, pgChecksLater[0]]) {
      assert.equal(check.status, 503, JSON.stringify(check))
      assert.ok(['db_unavailable', 'db_outcome_unknown'].includes(String(check.error)), JSON.stringify(check))
    }
    assert.equal(pgHealth.status, 503)
    assert.equal(pgChecksLater[2].status, 503, '/readyz says not ready')
    assert.equal(cachedUser.status, 200, 'a cached read is served from Redis')
    assert.equal(kv.status, 200, 'the key/value API does not need PostgreSQL')
    // A query to a frozen server waits for its client-side timeout, Q = 2 T + 0.5 s (waiting for a
    // pooled client or a new connection gives up sooner, after T). A visit can queue behind a batch
    // already waiting, then wait for its own batch: up to 2 Q; then for its receipt, W plus one
    // connection attempt T. Plus a margin for a busy machine.
    const queryTimeout = 2 * DEPENDENCY_TIMEOUT_MS + 500
    const visitBound = 2 * queryTimeout + VISIT_IN_DOUBT_WAIT_MS + DEPENDENCY_TIMEOUT_MS
    const bound = (path: string) => (path === '/' ? visitBound : queryTimeout) + 1500
    const pgPaths = [
      '/',
      '/db',
      '/users?limit=4',
      '/visits/recent',
      '/health',
      '/users/2',
      '/cache/slow',
      '/',
      '/db',
      '/readyz'
    ]
    for (const [i, check] of [...pgChecks, ...pgChecksLater].entries()) {
      assert.ok(
        check.ms < bound(pgPaths[i]),
        `${pgPaths[i]} bounded while PostgreSQL hangs (< ${bound(pgPaths[i])} ms): ${JSON.stringify(check)}`
      )
    }

    // Under the light load too: every request got an answer, only 200/201 or 503, none slower than its bound.
    assert.deepEqual(stats.failures, {})
    for (const o of outcomes) {
      assert.ok([200, 201, 503].includes(o.status), `${o.spec.path} answered ${o.status}`)
      assert.ok(
        o.ms < bound(o.spec.path),
        `${o.spec.path} took ${Math.round(o.ms)} ms under load (bound ${bound(o.spec.path)} ms)`
      )
    }
    const slowest = (paths: (p: string) => boolean) =>
      Math.round(Math.max(0, ...outcomes.filter((o) => paths(o.spec.path)).map((o) => o.ms)))
    console.log(
      `slow dependencies: slowest answer under load: visits ${slowest((p) => p === '/')} ms (bound ${bound('/')} ms), ` +
        `other routes ${slowest((p) => p !== '/')} ms (bound ${bound('/db')} ms)`
    )

    assert.ok(livezMs.length > 50)
    const slow = livezMs.filter((ms) => ms >= 100)
    assert.deepEqual(slow, [], '/livez answered within 100 ms every time')
  }
)
