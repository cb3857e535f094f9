// Guarantee 6: bad input. Every kind of malformed, hostile or out-of-range request gets a 4xx with
// {error, message}, never a 5xx or a crash; valid but unusual input (unicode and emoji keys,
// SQL-shaped strings) is stored literally and read back intact.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { startStack, type TestStack } from '../helpers/index.js'

let stack: TestStack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())

interface Raw {
  status: number
  body: string
  headers: http.IncomingHttpHeaders
}

/** A request exactly as written: no URL normalisation, any header, any body bytes; one connection each. */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Raw> {
  const url = new URL(stack.url)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers })
      )
    })
    req.on('error', reject)
    req.end(body)
  })
}

const JSON_TYPE = { 'content-type': 'application/json' }
const post = (path: string, json: unknown) => raw('POST', path, JSON_TYPE, JSON.stringify(json))
const postText = (path: string, text: string) => raw('POST', path, JSON_TYPE, text)

function nested(depth: number): unknown {
  let value: unknown = 'bottom'
  for (let i = 0; i < depth; i++) value = { down: value }
  return value
}

interface Case {
  kind: string
  send: () => Promise<Raw>
  status: number
  /** The error code expected in the body. */
  error?: string
  /** Text the message must contain. */
  message?: RegExp
}

// Each entry is one kind of bad input; the list is printed by the test so it shows in the output.
const CASES: Case[] = [
  // Body format
  {
    kind: 'malformed JSON (truncated object)',
    send: () => postText('/cache', '{"key": "k", '),
    status: 400,
    error: 'bad_request',
    message: /not valid JSON/
  },
  {
    kind: 'malformed JSON (single quotes)',
    send: () => postText('/users', "{'username': 'x'}"),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'malformed JSON (trailing garbage)',
    send: () => postText('/cache', '{"key":"k","value":1}xyz'),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'empty body declared as JSON',
    send: () => raw('POST', '/cache', JSON_TYPE, ''),
    status: 400,
    error: 'bad_request'
  },
  { kind: 'JSON null as the body', send: () => postText('/cache', 'null'), status: 400, error: 'bad_request' },
  {
    kind: 'JSON array as the body',
    send: () => post('/users', [{ username: 'a', email: 'a@example.com' }]),
    status: 400,
    error: 'bad_request',
    message: /must be object/
  },
  { kind: 'JSON string as the body', send: () => post('/cache', 'key=value'), status: 400, error: 'bad_request' },
  {
    kind: 'wrong content type: text/plain',
    send: () => raw('POST', '/cache', { 'content-type': 'text/plain' }, '{"key":"k","value":1}'),
    status: 415,
    error: 'unsupported_media_type'
  },
  {
    kind: 'wrong content type: form-urlencoded',
    send: () =>
      raw('POST', '/users', { 'content-type': 'application/x-www-form-urlencoded' }, 'username=a&email=a@example.com'),
    status: 415,
    error: 'unsupported_media_type'
  },
  {
    kind: 'wrong content type: multipart',
    send: () => raw('POST', '/cache', { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\n\r\nv\r\n--x--'),
    status: 415,
    error: 'unsupported_media_type'
  },
  {
    kind: 'no content type at all',
    send: () => raw('POST', '/cache', {}, '{"key":"k","value":1}'),
    status: 415,
    error: 'unsupported_media_type'
  },
  {
    kind: 'body over the 1 MiB limit',
    send: () => post('/cache', { key: 'big', value: 'x'.repeat(1024 * 1024) }),
    status: 413,
    error: 'payload_too_large'
  },
  {
    kind: 'prototype pollution (__proto__)',
    send: () => postText('/cache', '{"key":"k","value":{"__proto__":{"admin":true}}}'),
    status: 400,
    error: 'bad_request',
    message: /__proto__.*prototype pollution/
  },
  {
    kind: 'prototype pollution (constructor.prototype)',
    send: () => postText('/cache', '{"key":"k","value":{"constructor":{"prototype":{"admin":true}}}}'),
    status: 400,
    error: 'bad_request',
    message: /prototype pollution/
  },
  {
    kind: 'malformed chunked encoding',
    send: () => raw('POST', '/cache', { ...JSON_TYPE, 'transfer-encoding': 'chunked' }, 'zz\r\nnot hex\r\n0\r\n\r\n'),
    status: 400
  },
  {
    kind: 'headers over the size limit',
    send: () => raw('GET', '/users', { 'x-filler': 'a'.repeat(20_000) }),
    status: 431,
    error: 'headers_too_large'
  },

  // Fields
  { kind: 'missing key', send: () => post('/cache', { value: 1 }), status: 400, error: 'bad_request', message: /key/ },
  {
    kind: 'missing value',
    send: () => post('/cache', { key: 'k' }),
    status: 400,
    error: 'bad_request',
    message: /value/
  },
  {
    kind: 'extra field',
    send: () => post('/cache', { key: 'k', value: 1, owner: 'me' }),
    status: 400,
    error: 'bad_request',
    message: /additional properties/
  },
  {
    kind: 'key of the wrong type (number)',
    send: () => post('/cache', { key: 42, value: 1 }),
    status: 400,
    error: 'bad_request',
    message: /string/
  },
  { kind: 'key null', send: () => post('/cache', { key: null, value: 1 }), status: 400, error: 'bad_request' },
  {
    kind: 'key an object',
    send: () => post('/cache', { key: { $gt: '' }, value: 1 }),
    status: 400,
    error: 'bad_request'
  },

  // Keys
  { kind: 'empty key', send: () => post('/cache', { key: '', value: 1 }), status: 400, error: 'bad_request' },
  {
    kind: 'key over 200 characters',
    send: () => post('/cache', { key: 'k'.repeat(201), value: 1 }),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'key over 200 characters in the URL',
    send: () => raw('GET', `/cache/${'k'.repeat(201)}`),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'key far over the URL parameter limit',
    send: () => raw('GET', `/cache/${'%41'.repeat(2000)}`),
    status: 414,
    error: 'uri_too_long'
  },
  {
    kind: 'key with a control character (newline)',
    send: () => post('/cache', { key: 'a\nb', value: 1 }),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'key with a control character (ESC)',
    send: () => post('/cache', { key: 'a\u001bb', value: 1 }),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'key with a C1 control character',
    send: () => post('/cache', { key: 'a\u0085b', value: 1 }),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'key with NUL in the body',
    send: () => postText('/cache', '{"key":"a\\u0000b","value":1}'),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'key with an encoded NUL in the URL (%00)',
    send: () => raw('GET', '/cache/a%00b'),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'key with a lone surrogate',
    send: () => postText('/cache', '{"key":"a\\ud800","value":1}'),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'URL with invalid percent-encoding',
    send: () => raw('GET', '/cache/%E0%A4%A'),
    status: 400,
    error: 'bad_request'
  },
  { kind: 'URL with a bare percent sign', send: () => raw('DELETE', '/cache/%'), status: 400, error: 'bad_request' },
  {
    kind: 'key "." (a dot segment clients resolve away)',
    send: () => post('/cache', { key: '.', value: 1 }),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'key ".." (a dot segment clients resolve away)',
    send: () => post('/cache', { key: '..', value: 1 }),
    status: 400,
    error: 'bad_request'
  },
  { kind: 'path trick ../ (raw)', send: () => raw('GET', '/cache/../users'), status: 404, error: 'not_found' },
  {
    kind: 'path trick ..%2F to an internal key',
    send: () => raw('GET', '/cache/..%2Fvisit_counter%3Ahomepage'),
    status: 404,
    error: 'not_found'
  },
  {
    kind: 'internal key name as a client key',
    send: () => raw('GET', '/cache/visit_counter%3Ahomepage'),
    status: 404,
    error: 'not_found'
  },
  {
    kind: 'delete of an internal key name',
    send: () => raw('DELETE', '/cache/users%3Acache'),
    status: 404,
    error: 'not_found'
  },

  // TTLs
  {
    kind: 'huge TTL',
    send: () => post('/cache', { key: 'k', value: 1, ttl: 1e12 }),
    status: 400,
    error: 'bad_request',
    message: /<= 2592000/
  },
  {
    kind: 'TTL 1e400 (infinite)',
    send: () => postText('/cache', '{"key":"k","value":1,"ttl":1e400}'),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'negative TTL',
    send: () => post('/cache', { key: 'k', value: 1, ttl: -60 }),
    status: 400,
    error: 'bad_request',
    message: />= 1/
  },
  { kind: 'zero TTL', send: () => post('/cache', { key: 'k', value: 1, ttl: 0 }), status: 400, error: 'bad_request' },
  {
    kind: 'fractional TTL',
    send: () => post('/cache', { key: 'k', value: 1, ttl: 1.5 }),
    status: 400,
    error: 'bad_request',
    message: /integer/
  },
  {
    kind: 'string TTL',
    send: () => post('/cache', { key: 'k', value: 1, ttl: '60' }),
    status: 400,
    error: 'bad_request',
    message: /integer/
  },
  {
    kind: 'null TTL',
    send: () => post('/cache', { key: 'k', value: 1, ttl: null }),
    status: 400,
    error: 'bad_request'
  },

  // Values
  {
    kind: 'value nested 65 levels deep',
    send: () => post('/cache', { key: 'deep', value: nested(65) }),
    status: 400,
    error: 'bad_request',
    message: /nested/
  },
  {
    kind: 'value nested 10,000 levels deep',
    send: () => postText('/cache', `{"key":"deeper","value":${'['.repeat(10_000)}${']'.repeat(10_000)}}`),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'value with a number too large to store (1e400)',
    send: () => postText('/cache', '{"key":"inf","value":{"n":1e400}}'),
    status: 400,
    error: 'bad_request',
    message: /too large/
  },

  // Users
  {
    kind: 'user with an invalid email',
    send: () => post('/users', { username: 'mail.bad', email: 'not-an-email' }),
    status: 400,
    error: 'bad_request',
    message: /email/
  },
  {
    kind: 'user with an email without a domain dot',
    send: () => post('/users', { username: 'mail.bad', email: 'a@b' }),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'user with an email over 254 characters',
    send: () => post('/users', { username: 'mail.long', email: `${'a'.repeat(250)}@example.com` }),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'user with a duplicate email',
    send: () => post('/users', { username: 'someone.else', email: 'dup@example.com' }),
    status: 409,
    error: 'conflict',
    message: /email/
  },
  {
    kind: 'user with a duplicate email in other case',
    send: () => post('/users', { username: 'someone.else2', email: 'DUP@EXAMPLE.COM' }),
    status: 409,
    error: 'conflict'
  },
  {
    kind: 'user with a duplicate username',
    send: () => post('/users', { username: 'dup.user', email: 'other@example.com' }),
    status: 409,
    error: 'conflict',
    message: /username/
  },
  {
    kind: 'user without an email',
    send: () => post('/users', { username: 'no.mail' }),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'user with a blank username',
    send: () => post('/users', { username: '   ', email: 'blank@example.com' }),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'user with a username over 50 characters',
    send: () => post('/users', { username: 'u'.repeat(51), email: 'long@example.com' }),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'user with a username of the wrong type',
    send: () => post('/users', { username: ['a'], email: 'arr@example.com' }),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'user with an extra field (id)',
    send: () => post('/users', { id: 1, username: 'with.id', email: 'with.id@example.com' }),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'user update with no field',
    send: () => raw('PATCH', '/users/1', JSON_TYPE, '{}'),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'user update to a duplicate email',
    send: () => raw('PATCH', '/users/2', JSON_TYPE, JSON.stringify({ email: 'dup@example.com' })),
    status: 409,
    error: 'conflict'
  },

  // Ids and pagination
  { kind: 'unknown user id', send: () => raw('GET', '/users/999999'), status: 404, error: 'not_found' },
  {
    kind: 'update of an unknown user id',
    send: () => raw('PATCH', '/users/999999', JSON_TYPE, '{"username":"ghost"}'),
    status: 404,
    error: 'not_found'
  },
  { kind: 'delete of an unknown user id', send: () => raw('DELETE', '/users/999999'), status: 404, error: 'not_found' },
  { kind: 'user id not a number', send: () => raw('GET', '/users/abc'), status: 400, error: 'bad_request' },
  { kind: 'user id zero', send: () => raw('GET', '/users/0'), status: 400, error: 'bad_request' },
  { kind: 'user id negative', send: () => raw('DELETE', '/users/-1'), status: 400, error: 'bad_request' },
  { kind: 'user id fractional', send: () => raw('GET', '/users/1.5'), status: 400, error: 'bad_request' },
  {
    kind: 'user id beyond 2^53',
    send: () => raw('GET', '/users/99999999999999999999'),
    status: 400,
    error: 'bad_request'
  },
  { kind: 'user id SQL-shaped', send: () => raw('GET', '/users/1%20OR%201=1'), status: 400, error: 'bad_request' },
  { kind: 'unknown cache key (read)', send: () => raw('GET', '/cache/never-stored'), status: 404, error: 'not_found' },
  {
    kind: 'unknown cache key (delete)',
    send: () => raw('DELETE', '/cache/never-stored'),
    status: 404,
    error: 'not_found'
  },
  { kind: 'pagination: limit 0', send: () => raw('GET', '/users?limit=0'), status: 400, error: 'bad_request' },
  { kind: 'pagination: limit over 100', send: () => raw('GET', '/users?limit=101'), status: 400, error: 'bad_request' },
  {
    kind: 'pagination: negative offset',
    send: () => raw('GET', '/users?offset=-1'),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'pagination: offset far out of range',
    send: () => raw('GET', '/users?offset=99999999999'),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'pagination: limit not a number',
    send: () => raw('GET', '/users?limit=ten'),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'pagination: limit given twice',
    send: () => raw('GET', '/users?limit=5&limit=6'),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'pagination: unknown parameter',
    send: () => raw('GET', '/users?order=id;DROP%20TABLE%20users'),
    status: 400,
    error: 'bad_request'
  },
  {
    kind: 'recent visits: limit out of range',
    send: () => raw('GET', '/visits/recent?limit=1000'),
    status: 400,
    error: 'bad_request'
  },

  // Methods and routes: always 404 with the same shape (no route for that method and path)
  {
    kind: 'wrong method: PUT /cache',
    send: () => raw('PUT', '/cache', JSON_TYPE, '{}'),
    status: 404,
    error: 'not_found'
  },
  {
    kind: 'wrong method: POST /visits',
    send: () => raw('POST', '/visits', JSON_TYPE, '{}'),
    status: 404,
    error: 'not_found'
  },
  { kind: 'wrong method: DELETE /users', send: () => raw('DELETE', '/users'), status: 404, error: 'not_found' },
  {
    kind: 'wrong method: PUT /users/1',
    send: () => raw('PUT', '/users/1', JSON_TYPE, '{"username":"x"}'),
    status: 404,
    error: 'not_found'
  },
  {
    kind: 'wrong method: PATCH /cache/k',
    send: () => raw('PATCH', '/cache/k', JSON_TYPE, '{}'),
    status: 404,
    error: 'not_found'
  },
  {
    kind: 'wrong method: POST /health',
    send: () => raw('POST', '/health', JSON_TYPE, '{}'),
    status: 404,
    error: 'not_found'
  },
  { kind: 'wrong method: TRACE /', send: () => raw('TRACE', '/'), status: 404, error: 'not_found' },
  { kind: 'unknown route', send: () => raw('GET', '/admin'), status: 404, error: 'not_found' }
]

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
