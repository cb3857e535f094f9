// Guarantee 6: bad input. Every kind of malformed, hostile or out-of-range request gets a 4xx with
// {error, message}, never a 5xx or a crash; valid but unusual input (unicode and emoji keys,
// SQL-shaped strings) is stored literally and read back intact.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startStack, type TestStack } from '../helpers/index.js'
import { nested, rawClient } from './raw-client.js'
import { formatAndKeyCases } from './cases-format-and-keys.js'
import { valueAndUserCases } from './cases-values-and-users.js'

let stack: TestStack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())

const client = rawClient(() => stack.url)
const { raw, post } = client
// Each entry is one kind of bad input; the list is printed by the test so it shows in the output.
const CASES = [...formatAndKeyCases(client), ...valueAndUserCases(client)]

describe('bad input: each kind gets a 4xx with {error, message}', () => {
  before(async () => {
    const dup = await post('/users', { username: 'dup.user', email: 'dup@example.com' })
    assert.equal(dup.status, 201)
  })

  for (const c of CASES) {
    test(c.kind, async () => {
      const res = await c.send()
      assert.equal(res.status, c.status, `${c.kind}: ${res.status} ${res.body.slice(0, 300)}`)
      assert.ok(res.status >= 400 && res.status < 500)
      assert.match(String(res.headers['content-type']), /application\/json/)
      const body = JSON.parse(res.body) as Record<string, unknown>
      assert.equal(typeof body.error, 'string', res.body)
      assert.equal(typeof body.message, 'string', res.body)
      assert.ok(String(body.message).length > 0)
      if (c.error !== undefined) assert.equal(body.error, c.error, res.body)
      if (c.message !== undefined) assert.match(String(body.message), c.message)
      // Nothing internal leaks: no stack, no SQL, no addresses.
      assert.doesNotMatch(
        res.body,
        /\bat .+\.(ts|js):\d+|SELECT |INSERT |postgres(ql)?:\/\/|redis:\/\/|127\.0\.0\.1:\d+/
      )
    })
  }

  test(`${CASES.length} kinds tried; the service is still healthy and nothing internal was touched`, async () => {
    console.log(
      `bad input: ${CASES.length} kinds tried:\n  - ${CASES.map((c) => `${c.kind} -> ${c.status}`).join('\n  - ')}`
    )
    assert.ok(CASES.length >= 30)
    const health = await raw('GET', '/health')
    assert.equal(health.status, 200)
    const [{ total }] = await stack.pg.query<{ total: number }>('SELECT count(*)::int AS total FROM users')
    assert.ok(total >= 11, 'the users table is intact')
    const keys = await stack.redis.command((r) => r.keys('*'))
    for (const key of keys) assert.ok(/^(kv:|visit_counter:|users:|teste$)/.test(key), `unexpected Redis key ${key}`)
    assert.ok(!keys.includes('kv:k'), 'no refused write was stored')
  })
})

describe('valid but unusual input is stored literally and read back intact', () => {
  const keys = [
    'café ☕',
    '日本語のキー',
    '🚀🔥👩‍👩‍👧',
    'Ελληνικά',
    'עברית',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
    'a/b',
    '../../etc/passwd',
    '%2F%00',
    'visit_counter:homepage',
    "'; DROP TABLE users; --",
    '" OR "1"="1',
    'key with spaces',
    '*',
    'k'.repeat(200)
  ]
  for (const key of keys) {
    test(`key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 20)}... (${key.length})` : key)}`, async () => {
      const value = { key, list: [1, 'two', null, true, { nested: key }], n: -12.5e-3 }
      const stored = await post('/cache', { key, value, ttl: 120 })
      assert.equal(stored.status, 201, stored.body)
      const read = await raw('GET', `/cache/${encodeURIComponent(key)}`)
      assert.equal(read.status, 200, read.body)
      const body = JSON.parse(read.body) as { key: string; value: unknown; ttl: number }
      assert.equal(body.key, key)
      assert.deepEqual(body.value, value)
      assert.ok(body.ttl > 0 && body.ttl <= 120)
      assert.equal(
        await stack.redis.command((r) => r.get(`kv:${key}`)),
        JSON.stringify(value),
        'stored under the kv: prefix, as sent'
      )
    })
  }

  test('an internal key named by a client stays untouched', async () => {
    await raw('GET', '/')
    const before = await stack.redis.command((r) => r.get('visit_counter:homepage'))
    await post('/cache', { key: 'visit_counter:homepage', value: 1e9 })
    await raw('DELETE', '/cache/visit_counter%3Ahomepage')
    assert.equal(await stack.redis.command((r) => r.get('visit_counter:homepage')), before)
  })

  test('a value nested 64 levels deep and a value just under the body limit are accepted', async () => {
    const deep = nested(63)
    assert.equal((await post('/cache', { key: 'deep-ok', value: deep })).status, 201)
    assert.deepEqual(JSON.parse((await raw('GET', '/cache/deep-ok')).body).value, deep)
    const big = 'x'.repeat(1024 * 1024 - 100)
    assert.equal((await post('/cache', { key: 'big-ok', value: big })).status, 201)
    assert.equal(JSON.parse((await raw('GET', '/cache/big-ok')).body).value, big)
  })

  test('SQL-shaped usernames are stored literally and never executed', async () => {
    const names = [
      "robert'); DROP TABLE users;--",
      "x' OR '1'='1",
      '1; SELECT pg_sleep(10)',
      '$1 $2 \\x00',
      'ção 🚀 ünïcödé'
    ]
    for (const [i, username] of names.entries()) {
      const started = Date.now()
      const created = await post('/users', { username, email: `literal${i}@example.com` })
      assert.equal(created.status, 201, created.body)
      assert.ok(Date.now() - started < 5000, 'nothing was executed (no sleep)')
      const id = (JSON.parse(created.body) as { id: number }).id
      const read = JSON.parse((await raw('GET', `/users/${id}`)).body) as { username: string }
      assert.equal(read.username, username)
    }
    const [{ n }] = await stack.pg.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'users'"
    )
    assert.equal(n, 1)
  })
})
