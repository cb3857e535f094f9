// Degraded operation: Redis down, PostgreSQL stopped and restarted. The service answers what it
// can, says 503 for what it cannot, and recovers by itself.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { call, startStack, type TestStack } from '../helpers/index.js'

let stack: TestStack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${timeoutMs} ms`)
    await sleep(100)
  }
}

const dbTotal = async () =>
  Number(
    (await stack.pg.query<{ total: number }>("SELECT total::int FROM visit_counter WHERE label = 'homepage'"))[0]?.total
  )

test('Redis down: visits still count from PostgreSQL, Redis routes answer 503, health is degraded', async () => {
  await call(stack.url, '/cache', { method: 'POST', json: { key: 'survivor', value: 1 } })
  await call(stack.url, '/users') // warm
  await stack.redis.stop()

  const before = await dbTotal()
  for (let i = 0; i < 5; i++) {
    const visit = await call(stack.url, '/')
    assert.equal(visit.status, 200)
    assert.equal(visit.body.cached, false)
  }
  assert.equal(await dbTotal(), before + 5)

  const total = await call(stack.url, '/visits')
  assert.equal(total.status, 200)
  assert.deepEqual({ ...total.body }, { label: 'homepage', total: before + 5, cached: false })
  const users = await call(stack.url, '/users')
  assert.equal(users.status, 200)
  assert.equal(users.body.cached, false)
  assert.equal((await call(stack.url, '/users/1')).status, 200)
  assert.equal((await call(stack.url, '/db')).status, 200)
  // Writes to PostgreSQL still work; their invalidation is remembered for when Redis returns.
  assert.equal(
    (await call(stack.url, '/users', { method: 'POST', json: { username: 'offline', email: 'offline@example.com' } }))
      .status,
    201
  )

  for (const [path, init] of [
    ['/cache', {}],
    ['/cache/survivor', {}],
    ['/cache', { method: 'POST', json: { key: 'k', value: 1 } }],
    ['/cache/survivor', { method: 'DELETE' }]
  ] as const) {
    const { status, body } = await call(stack.url, path, init)
    assert.equal(status, 503, path)
    assert.equal(body.error, 'cache_unavailable')
    assert.match(String(body.message), /Redis is unavailable/)
  }

  const health = await call(stack.url, '/health')
  assert.equal(health.status, 503)
  assert.equal(health.body.status, 'degraded')
  assert.equal(health.body.services.cache.status, 'down')
  assert.equal(typeof health.body.services.cache.error, 'string')
  assert.equal(health.body.services.db.status, 'up')
  assert.equal((await call(stack.url, '/readyz')).status, 200)
  assert.equal((await call(stack.url, '/livez')).status, 200)
})

test('Redis back: healthy again without a restart, the cache refills, nothing stale is served', async () => {
  await stack.redis.start()
  await eventually('health back to 200', async () => (await call(stack.url, '/health')).status === 200)
  await call(stack.url, '/visits')
  const refilled = await call(stack.url, '/visits')
  assert.equal(refilled.body.cached, true)
  assert.equal(refilled.body.total, await dbTotal())
  const users = await call(stack.url, '/users')
  assert.ok(users.body.users.some((u) => String(u.username) === 'offline'))
  assert.equal((await call(stack.url, '/cache', { method: 'POST', json: { key: 'k', value: 2 } })).status, 201)
})

test('a Redis that comes back with old data never serves it: stale copies are dropped on reconnect', async () => {
  await call(stack.url, '/users?limit=50')
  const cachedList = await stack.redis.command((r) => r.hgetall('users:cache'))
  assert.ok(Object.keys(cachedList).length > 0)
  stack.redis.pause() // the process freezes with its data, as after a network cut
  const created = await call(stack.url, '/users', {
    method: 'POST',
    json: { username: 'while.frozen', email: 'while.frozen@example.com' }
  })
  assert.equal(created.status, 201)
  stack.redis.resume()
  await eventually('the new user to be listed', async () =>
    (await call(stack.url, '/users?limit=50')).body.users.some((u) => String(u.username) === 'while.frozen')
  )
})

test('PostgreSQL down: routes that need it answer 503 quickly; Redis-only routes still work', async () => {
  await stack.pg.stop()
  const started = Date.now()
  const visit = await call(stack.url, '/')
  assert.equal(visit.status, 503)
  assert.equal(visit.body.error, 'db_unavailable')
  assert.ok(Date.now() - started < 10_000)
  for (const path of ['/db', '/users?limit=7', '/users/9', '/visits/recent']) {
    const { status, body } = await call(stack.url, path)
    assert.equal(status, 503, path)
    assert.equal(body.error, 'db_unavailable')
    assert.doesNotMatch(JSON.stringify(body), /ECONNREFUSED|127\.0\.0\.1|postgres:\/\/|SELECT/)
  }
  assert.equal((await call(stack.url, '/cache')).status, 200)
  assert.equal((await call(stack.url, '/cache/k')).status, 200)
  const health = await call(stack.url, '/health')
  assert.equal(health.status, 503)
  assert.equal(health.body.status, 'unhealthy')
  assert.equal(health.body.services.db.status, 'down')
  assert.equal((await call(stack.url, '/readyz')).status, 503)
  assert.equal((await call(stack.url, '/livez')).status, 200)
})

test('PostgreSQL back: the service recovers by itself and no failed visit was counted', async () => {
  await stack.pg.start()
  await eventually('db answers again', async () => (await call(stack.url, '/db')).status === 200)
  const before = await dbTotal()
  const visit = await call(stack.url, '/')
  assert.equal(visit.status, 200)
  assert.equal(visit.body.visits, before + 1)
  const [{ logged }] = await stack.pg.query<{ logged: number }>('SELECT count(*)::int AS logged FROM visits')
  assert.equal(logged, before + 1)
  assert.equal((await call(stack.url, '/health')).status, 200)
})

test('PostgreSQL crash and restart: idle pooled connections are replaced, not fatal', async () => {
  await Promise.all(Array.from({ length: 20 }, () => call(stack.url, '/users/1'))) // fill the pool
  await stack.pg.kill()
  await stack.pg.start()
  await eventually('visits counted again', async () => (await call(stack.url, '/')).status === 200)
  const [{ total }] = await stack.pg.query<{ total: number }>(
    "SELECT total::int FROM visit_counter WHERE label = 'homepage'"
  )
  const [{ logged }] = await stack.pg.query<{ logged: number }>('SELECT count(*)::int AS logged FROM visits')
  assert.equal(total, logged)
})
