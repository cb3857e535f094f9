// Cache-aside reads and invalidation: every write drops what it made stale, and no racing reader
// can put an older copy back.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { call, startStack, type TestStack } from '../helpers/index.js'

let stack: TestStack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())

test('user list and user reads are served from Redis after the first read', async () => {
  const first = await call(stack.url, '/users?limit=5')
  const second = await call(stack.url, '/users?limit=5')
  assert.equal(first.body.cached, false)
  assert.equal(second.body.cached, true)
  assert.deepEqual(second.body.users, first.body.users)
  const one = await call(stack.url, '/users/2')
  const again = await call(stack.url, '/users/2')
  assert.equal(one.headers.get('x-cache'), 'miss')
  assert.equal(again.headers.get('x-cache'), 'hit')
  assert.deepEqual(again.body, one.body)
})

test('a cached read is really served from Redis (a change made behind the service stays invisible until a write)', async () => {
  await call(stack.url, '/users?limit=3')
  await stack.pg.query("UPDATE users SET email = 'changed.behind@example.com' WHERE id = 1")
  const cached = await call(stack.url, '/users?limit=3')
  assert.equal(cached.body.cached, true)
  assert.equal(cached.body.users[0]?.email, 'ana.silva@example.com')
  await stack.pg.query("UPDATE users SET email = 'ana.silva@example.com' WHERE id = 1")
})

test('create, update and delete each invalidate lists and items', async () => {
  const warm = async () => {
    await call(stack.url, '/users?limit=100')
    await call(stack.url, '/users/3')
    assert.equal((await call(stack.url, '/users?limit=100')).body.cached, true)
  }
  await warm()
  const created = await call(stack.url, '/users', {
    method: 'POST',
    json: { username: 'new.one', email: 'new.one@example.com' }
  })
  const afterCreate = await call(stack.url, '/users?limit=100')
  assert.equal(afterCreate.body.cached, false)
  assert.ok(afterCreate.body.users.some((u) => String(u.username) === 'new.one'))
  assert.equal(
    afterCreate.body.total,
    Number((await stack.pg.query<{ n: number }>('SELECT count(*)::int AS n FROM users'))[0]?.n)
  )

  await warm()
  await call(stack.url, '/users/3', { method: 'PATCH', json: { username: 'carla.renamed' } })
  assert.equal((await call(stack.url, '/users/3')).body.username, 'carla.renamed')
  assert.ok((await call(stack.url, '/users?limit=100')).body.users.some((u) => String(u.username) === 'carla.renamed'))

  await warm()
  await call(stack.url, `/users/${created.body.id}`, { method: 'DELETE' })
  const afterDelete = await call(stack.url, '/users?limit=100')
  assert.ok(!afterDelete.body.users.some((u) => String(u.username) === 'new.one'))
  assert.equal((await call(stack.url, `/users/${created.body.id}`)).status, 404)
})

test('a failed write (conflict) leaves the cache as it was', async () => {
  await call(stack.url, '/users?limit=100')
  const conflict = await call(stack.url, '/users', {
    method: 'POST',
    json: { username: 'bruno.souza', email: 'x@example.com' }
  })
  assert.equal(conflict.status, 409)
  assert.equal((await call(stack.url, '/users?limit=100')).body.cached, true)
})

test('racing readers and writers: after the writes, every read shows the last write', async () => {
  const created = await call(stack.url, '/users', {
    method: 'POST',
    json: { username: 'racer', email: 'racer@example.com' }
  })
  const id = Number(created.body.id)
  const writes = Array.from({ length: 20 }, (_, i) => i)
  const readers = Array.from({ length: 200 }, (_, i) =>
    call(stack.url, i % 2 === 0 ? `/users/${id}` : '/users?limit=100')
  )
  for (const i of writes)
    await call(stack.url, `/users/${id}`, { method: 'PATCH', json: { email: `racer${i}@example.com` } })
  await Promise.all(readers)
  // Let any fill still in flight land, then read twice (the second surely from Redis).
  await new Promise((resolve) => setTimeout(resolve, 100))
  for (let i = 0; i < 2; i++) {
    assert.equal((await call(stack.url, `/users/${id}`)).body.email, 'racer19@example.com')
    const list = await call(stack.url, '/users?limit=100')
    assert.equal(list.body.users.find((u) => Number(u.id) === id)?.email, 'racer19@example.com')
  }
})

test('visits: the cached total only moves forward, whatever order fills arrive in', async () => {
  await Promise.all(Array.from({ length: 50 }, () => call(stack.url, '/')))
  // A slow reader that read an old total from PostgreSQL tries to put it back:
  const stale = 1
  await stack.redis.command((r) => r.set('visit_counter:homepage', String(stale)))
  await call(stack.url, '/')
  const [{ total }] = await stack.pg.query<{ total: number }>(
    "SELECT total::int FROM visit_counter WHERE label = 'homepage'"
  )
  assert.equal(Number(await stack.redis.command((r) => r.get('visit_counter:homepage'))), total)
  assert.equal((await call(stack.url, '/visits')).body.total, total)
})
