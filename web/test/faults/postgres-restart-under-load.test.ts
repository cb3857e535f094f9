// Guarantee 3: PostgreSQL restarts under load. Routes that need it answer 503 with a clear message
// during the outage, within a bounded time; the service recovers without a restart; every visit
// that got a 2xx is in the table exactly once and none that got an error is.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  Load,
  describeStats,
  type Outcome,
  type RequestSpec,
  eventually,
  liveServiceForFile,
  call,
  visitCounts
} from '../helpers/index.js'

// A hung test fails instead of holding up the run.
const LIMIT_MS = 120_000

const live = liveServiceForFile()

// Mostly visits, with the other PostgreSQL routes mixed in.
const MIX: RequestSpec[] = [
  { path: '/' },
  { path: '/' },
  { path: '/' },
  { path: '/users/3' },
  { path: '/' },
  { path: '/db' },
  { path: '/' },
  { path: '/users?limit=5' }
]

async function outageUnderLoad(kind: 'stop' | 'kill', durationMs: number): Promise<void> {
  const name = kind === 'stop' ? 'postgres restart' : 'postgres crash'
  const start = await visitCounts(live.pg)
  const outcomes: Outcome[] = []
  const load = new Load({
    url: live.service.url,
    connections: 16,
    durationMs,
    timeoutMs: 20_000,
    next: (n) => MIX[n % MIX.length],
    onOutcome: (o) => outcomes.push(o)
  })

  await sleep(2500)
  // stop: fast shutdown, sessions are cut and transactions in progress roll back.
  // kill: SIGQUIT, the postmaster and every backend die at once, as in a crash; recovery on start.
  if (kind === 'stop') await live.pg.stop()
  else await live.pg.kill()
  const downAt = performance.now()
  await sleep(1500)
  const health = await call(live.service.url, '/health')
  assert.equal(health.status, 503)
  assert.equal(health.body.status, 'unhealthy')
  assert.equal(health.body.services.db.status, 'down')
  assert.equal((await call(live.service.url, '/readyz')).status, 503)
  assert.equal((await call(live.service.url, '/livez')).status, 200)
  assert.equal((await call(live.service.url, '/cache')).status, 200, 'Redis-only routes keep working')
  await sleep(1500)
  await live.pg.start()
  const upAt = performance.now()
  // Visits sent by this probe are counted exactly like the load's.
  let probeOk = 0
  const recoveredMs = await eventually(
    'a visit counted again',
    async () => {
      const visit = await call(live.service.url, '/')
      if (visit.status === 200) probeOk++
      return visit.status === 200
    },
    15_000
  )
  await eventually('/health 200 again', async () => (await call(live.service.url, '/health')).status === 200, 10_000)

  const stats = await load.done
  const end = await visitCounts(live.pg)
  const visits = outcomes.filter((o) => o.spec.path === '/')
  const acknowledged = visits.filter((o) => o.status === 200)
  const refused = visits.filter((o) => o.status === 503)
  const during = outcomes.filter((o) => o.sentAt > downAt && o.sentAt < upAt)
  console.log(describeStats(name, stats))
  console.log(
    `${name}: down for ${Math.round(upAt - downAt)} ms, ${during.length} requests sent meanwhile; visits 2xx ${acknowledged.length}, 503 ${refused.length}; ` +
      `first visit counted ${recoveredMs} ms after restart; database total ${start.total} -> ${end.total} (+${end.total - start.total}), visit log +${end.logged - start.logged}; ` +
      `slowest answer ${stats.maxMs} ms; service pid ${live.service.pid} still running: ${live.service.child.exitCode === null}`
  )

  assert.ok(refused.length > 0, 'some visits were refused during the outage')
  assert.equal(live.service.child.exitCode, null, 'the service did not crash or restart')
  assert.deepEqual(stats.failures, {}, 'every request got an answer (no hang, no dropped connection)')
  for (const o of outcomes) {
    assert.ok(o.status === 200 || o.status === 503, `${o.spec.path} answered ${o.status}: ${o.body}`)
    if (o.status === 503) {
      const body = JSON.parse(o.body) as { error: string; message: string }
      assert.equal(body.error, 'db_unavailable', o.body)
      assert.match(body.message, /PostgreSQL is unavailable/)
      assert.doesNotMatch(o.body, /ECONNREFUSED|127\.0\.0\.1|postgres(ql)?:\/\/|SELECT|INSERT/)
    }
  }
  assert.ok(stats.maxMs < 10_000, `every answer within 10 s (slowest ${stats.maxMs} ms)`)

  // Exactly the acknowledged visits are in the table, once each; none that got a 503 is.
  assert.equal(end.total - start.total, acknowledged.length + probeOk, 'the counter rose by exactly the number of 200s')
  assert.equal(end.logged, end.total, 'one log row per counted visit')
  const numbers = new Set(acknowledged.map((o) => Number((JSON.parse(o.body) as { visits: number }).visits)))
  assert.equal(numbers.size, acknowledged.length, 'every acknowledged visit has its own number')
  for (const n of numbers)
    assert.ok(n > start.total && n <= end.total, `visit number ${n} within ${start.total}..${end.total}`)
}

test('PostgreSQL stopped (fast shutdown) and restarted during a sustained load', { timeout: LIMIT_MS }, () =>
  outageUnderLoad('stop', 14_000)
)

test('PostgreSQL crashed (SIGQUIT) and restarted during a sustained load', { timeout: LIMIT_MS }, () =>
  outageUnderLoad('kill', 10_000)
)
