// Guarantee 2: Redis dies under load. Visits keep being counted from PostgreSQL with no 5xx on /,
// /health says degraded and names the cache, the cache routes answer 503 with a message; when
// Redis is back, /health is 200 within seconds, the cache refills, and no count is lost or doubled.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  Load,
  describeStats,
  type Outcome,
  eventually,
  liveServiceForFile,
  call,
  visitCounts
} from '../helpers/index.js'

// A hung test fails instead of holding up the run.
const LIMIT_MS = 120_000

const live = liveServiceForFile()

test('Redis killed during a sustained load of visits, then restarted', { timeout: LIMIT_MS }, async () => {
  assert.equal(
    (await call(live.service.url, '/cache', { method: 'POST', json: { key: 'before-outage', value: { n: 1 } } }))
      .status,
    201
  )
  const start = await visitCounts(live.pg)
  const rssBefore = live.service.rssKb()
  const visits: Outcome[] = []
  const load = new Load({
    url: live.service.url,
    connections: 16,
    durationMs: 14_000,
    timeoutMs: 15_000,
    next: () => ({ path: '/' }),
    onOutcome: (o) => visits.push(o)
  })

  await sleep(2000)
  await live.redis.stop() // SIGKILL: the data in memory is gone, like a crashed cache
  const killedAt = performance.now()
  await sleep(1000)

  // While Redis is away.
  const health = await call(live.service.url, '/health')
  assert.equal(health.status, 503)
  assert.equal(health.body.status, 'degraded')
  assert.equal(health.body.services.cache.status, 'down')
  assert.equal(typeof health.body.services.cache.error, 'string')
  assert.equal(health.body.services.db.status, 'up')
  for (const [path, init] of [
    ['/cache', {}],
    ['/cache/before-outage', {}],
    ['/cache', { method: 'POST', json: { key: 'during', value: 1 } }],
    ['/cache/before-outage', { method: 'DELETE' }]
  ] as const) {
    const started = performance.now()
    const { status, body } = await call(live.service.url, path, init)
    assert.equal(status, 503, `${init.method ?? 'GET'} ${path}`)
    assert.equal(body.error, 'cache_unavailable')
    assert.match(String(body.message), /Redis is unavailable/)
    assert.ok(performance.now() - started < 3000, 'a dead cache fails fast')
  }
  const total = await call(live.service.url, '/visits')
  assert.equal(total.status, 200)
  assert.equal(total.body.cached, false)
  assert.equal((await call(live.service.url, '/readyz')).status, 200, 'still ready: PostgreSQL is the source of truth')

  await sleep(2000)
  await live.redis.start()
  const restartedAt = performance.now()
  const healthyAfterMs = await eventually(
    '/health back to 200',
    async () => (await call(live.service.url, '/health')).status === 200,
    10_000
  )
  await eventually(
    'the key/value API back',
    async () =>
      (await call(live.service.url, '/cache', { method: 'POST', json: { key: 'after', value: 2 } })).status === 201,
    5000
  )
  await call(live.service.url, '/users')
  const users = await call(live.service.url, '/users')
  assert.equal(users.body.cached, true, 'user reads are cached again')

  const stats = await load.done
  const end = await visitCounts(live.pg)
  await call(live.service.url, '/visits')
  const refilled = await call(live.service.url, '/visits')
  const cached = await live.redis.command((r) => r.get('visit_counter:homepage'))
  const rssAfter = live.service.rssKb()

  const during = visits.filter((o) => o.sentAt > killedAt && o.sentAt < restartedAt)
  console.log(describeStats('redis dies', stats))
  console.log(
    `redis dies: ${during.length} visits sent while Redis was down (${during.filter((o) => o.status === 200).length} got 200); ` +
      `/health 200 again ${healthyAfterMs} ms after restart; database total ${start.total} -> ${end.total} (+${end.total - start.total}), ` +
      `visit log +${end.logged - start.logged}, cached total after ${cached ?? 'absent'}, service RSS ${Math.round(rssBefore / 1024)} -> ${Math.round(rssAfter / 1024)} MiB`
  )

  assert.ok(during.length > 0, 'visits were sent during the outage')
  assert.equal(stats.serverErrors, 0, 'no 5xx on /')
  assert.deepEqual(stats.failures, {}, 'every visit got an answer')
  assert.equal(stats.ok, stats.sent)
  assert.equal(end.total - start.total, stats.ok, 'no count lost or doubled')
  assert.equal(end.logged - start.logged, stats.ok)
  const numbers = visits.map((o) => Number((JSON.parse(o.body) as { visits: number }).visits)).sort((a, b) => a - b)
  assert.deepEqual(
    numbers,
    Array.from({ length: stats.ok }, (_, i) => start.total + i + 1),
    'each visit has its own number'
  )
  assert.equal(refilled.body.cached, true, 'the visit total is cached again')
  assert.equal(refilled.body.total, end.total)
  assert.ok(cached === null || Number(cached) === end.total, `cached ${cached}, database ${end.total}`)
  assert.ok(healthyAfterMs < 10_000)
})
