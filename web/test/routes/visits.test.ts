// Every route of the API over real HTTP, on private PostgreSQL and Redis.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { call, startStack, type TestStack } from '../helpers/index.js'

let stack: TestStack
let url: string
before(async () => {
  stack = await startStack()
  url = stack.url
})
after(() => stack.close())

const isError = (body: unknown, code: string) => {
  assert.equal(typeof body, 'object')
  const { error, message } = body as { error: unknown; message: unknown }
  assert.equal(error, code)
  assert.equal(typeof message, 'string')
  assert.ok((message as string).length > 0)
}

describe('GET /', () => {
  test('counts one visit per request and commits it to PostgreSQL', async () => {
    const [{ total: before }] = await stack.pg.query<{ total: number }>(
      "SELECT total::int FROM visit_counter WHERE label = 'homepage'"
    )
    const first = await call(url, '/')
    const second = await call(url, '/')
    assert.equal(first.status, 200)
    assert.equal(first.body.status, 'ok')
    assert.equal(Number(second.body.visits), Number(first.body.visits) + 1)
    assert.equal(Number(first.body.visits), Number(before) + 1)
    assert.equal(first.body.cached, true)
    assert.ok(!Number.isNaN(Date.parse(String(first.body.db_time))))
    const [{ total }] = await stack.pg.query<{ total: number }>(
      "SELECT total::int FROM visit_counter WHERE label = 'homepage'"
    )
    const [{ logged }] = await stack.pg.query<{ logged: number }>(
      "SELECT count(*)::int AS logged FROM visits WHERE label = 'homepage'"
    )
    assert.equal(total, Number(second.body.visits))
    assert.equal(logged, total)
  })

  test('keeps the cached total under visit_counter:homepage in step with the database', async () => {
    const visit = await call(url, '/')
    const cached = await stack.redis.command((r) => r.get('visit_counter:homepage'))
    assert.equal(Number(cached), Number(visit.body.visits))
  })
})

describe('GET /visits', () => {
  test('reads the total without counting, from PostgreSQL on a miss and from Redis after', async () => {
    await stack.redis.command((r) => r.del('visit_counter:homepage'))
    const miss = await call(url, '/visits')
    const hit = await call(url, '/visits')
    assert.equal(miss.status, 200)
    assert.deepEqual({ ...miss.body }, { label: 'homepage', total: miss.body.total, cached: false })
    assert.equal(hit.body.cached, true)
    assert.equal(hit.body.total, miss.body.total)
    const [{ total }] = await stack.pg.query<{ total: number }>(
      "SELECT total::int FROM visit_counter WHERE label = 'homepage'"
    )
    assert.equal(Number(hit.body.total), total)
  })

  test('a cached total that is not a count (put straight into Redis) is ignored and replaced', async () => {
    const [{ total }] = await stack.pg.query<{ total: number }>(
      "SELECT total::int FROM visit_counter WHERE label = 'homepage'"
    )
    for (const garbage of ['abc', '-5', '1.5', '']) {
      await stack.redis.command((r) => r.set('visit_counter:homepage', garbage))
      const read = await call(url, '/visits')
      assert.equal(read.status, 200, `${JSON.stringify(garbage)}: ${JSON.stringify(read.body)}`)
      assert.deepEqual({ ...read.body }, { label: 'homepage', total, cached: false })
      assert.equal(await stack.redis.command((r) => r.get('visit_counter:homepage')), String(total))
    }
  })

  test('recent visits list times only, newest first, bounded by limit', async () => {
    await call(url, '/')
    const recent = await call(url, '/visits/recent?limit=2')
    assert.equal(recent.status, 200)
    assert.equal(recent.body.visits.length, 2)
    assert.deepEqual(Object.keys(recent.body.visits[0] ?? {}).sort(), ['id', 'visited_at'])
    assert.ok(Number(recent.body.visits[0]?.id) > Number(recent.body.visits[1]?.id))
    isError((await call(url, '/visits/recent?limit=0')).body, 'bad_request')
    assert.equal((await call(url, '/visits/recent?limit=101')).status, 400)
  })
})

describe('probes', () => {
  test('GET /db answers with the database time and version', async () => {
    const { status, body } = await call(url, '/db')
    assert.equal(status, 200)
    assert.equal(body.status, 'ok')
    assert.match(String(body.version), /^\d+/)
    assert.ok(Math.abs(Date.parse(String(body.time)) - Date.now()) < 60_000)
    assert.equal(typeof body.latency_ms, 'number')
  })

  test('GET /cache writes teste=ok and reads it back', async () => {
    const { status, body } = await call(url, '/cache')
    assert.equal(status, 200)
    assert.equal(body.status, 'ok')
    assert.equal(body.value, 'ok')
    assert.equal(await stack.redis.command((r) => r.get('teste')), 'ok')
  })
})

describe('key/value API', () => {
  test("the seeds' example: store user:1 with a TTL and read it back", async () => {
    const stored = await call(url, '/cache', {
      method: 'POST',
      json: { key: 'user:1', value: { name: 'João' }, ttl: 300 }
    })
    assert.equal(stored.status, 201)
    assert.equal(stored.body.key, 'user:1')
    assert.equal(stored.body.ttl, 300)
    const read = await call(url, '/cache/user:1')
    assert.equal(read.status, 200)
    assert.deepEqual(read.body.value, { name: 'João' })
    assert.ok(Number(read.body.ttl) > 290 && Number(read.body.ttl) <= 300)
  })

  test('ttl defaults to 3600 s; any JSON value is accepted', async () => {
    for (const value of [null, 0, 'text', [1, 'two', { three: 3 }], { nested: { deep: [true, false] } }]) {
      const stored = await call(url, '/cache', { method: 'POST', json: { key: 'any', value } })
      assert.equal(stored.status, 201)
      assert.equal(stored.body.ttl, 3600)
      assert.deepEqual((await call(url, '/cache/any')).body.value, value)
    }
  })

  test('keys live under their own prefix and cannot reach internal keys', async () => {
    await call(url, '/')
    const before = await stack.redis.command((r) => r.get('visit_counter:homepage'))
    const stored = await call(url, '/cache', { method: 'POST', json: { key: 'visit_counter:homepage', value: 999999 } })
    assert.equal(stored.status, 201)
    assert.equal(await stack.redis.command((r) => r.get('visit_counter:homepage')), before)
    assert.equal(await stack.redis.command((r) => r.get('kv:visit_counter:homepage')), '999999')
    assert.equal((await call(url, '/cache/teste')).status, 404)
  })

  test('a value put straight into Redis that is not JSON reads back as a string, twice alike', async () => {
    for (const [text, value] of [
      ['plain text', 'plain text'],
      ['{"cut":', '{"cut":'],
      ['', ''],
      ['42', 42],
      ['"quoted"', 'quoted']
    ] as const) {
      await stack.redis.command((r) => r.set('kv:outside', text, 'EX', 60))
      for (let i = 0; i < 2; i++) {
        const read = await call(url, '/cache/outside')
        assert.equal(read.status, 200, `${JSON.stringify(text)}: ${JSON.stringify(read.body)}`)
        assert.deepEqual(read.body, { key: 'outside', value, ttl: 60 })
      }
    }
  })

  test('a key that holds a hash or a list (put there outside the API) is a 409 saying what to do', async () => {
    await stack.redis.command((r) => r.hset('kv:a-hash', 'field', 'value'))
    await stack.redis.command((r) => r.rpush('kv:a-list', 'item'))
    for (const key of ['a-hash', 'a-list']) {
      const read = await call(url, `/cache/${key}`)
      assert.equal(read.status, 409)
      isError(read.body, 'conflict')
      assert.match(String(read.body.message), /POST \/cache.*DELETE/)
    }
    assert.equal((await call(url, '/cache', { method: 'POST', json: { key: 'a-hash', value: 1 } })).status, 201)
    assert.equal((await call(url, '/cache/a-hash')).body.value, 1)
    assert.equal((await call(url, '/cache/a-list', { method: 'DELETE' })).status, 204)
    assert.equal((await call(url, '/cache/a-list')).status, 404)
  })

  test('DELETE removes a key: 204, then 404', async () => {
    await call(url, '/cache', { method: 'POST', json: { key: 'gone', value: 1 } })
    const removed = await call(url, '/cache/gone', { method: 'DELETE' })
    assert.equal(removed.status, 204)
    assert.equal(removed.body, null)
    isError((await call(url, '/cache/gone')).body, 'not_found')
    assert.equal((await call(url, '/cache/gone', { method: 'DELETE' })).status, 404)
  })

  test('unicode keys are stored and read back intact; percent-encoded slashes are part of the key', async () => {
    for (const key of ['café ☕', '日本語のキー', '🚀🔥', 'a/b', '../etc/passwd']) {
      assert.equal((await call(url, '/cache', { method: 'POST', json: { key, value: key } })).status, 201, key)
      const read = await call(url, `/cache/${encodeURIComponent(key)}`)
      assert.equal(read.status, 200, key)
      assert.equal(read.body.key, key)
      assert.equal(read.body.value, key)
    }
  })

  test('invalid input gets a 4xx with a clear message', async () => {
    const cases: Array<[unknown, string]> = [
      [{ value: 1 }, "must have required property 'key'"],
      [{ key: 'k' }, "must have required property 'value'"],
      [{ key: '', value: 1 }, 'must NOT have fewer than 1 characters'],
      [{ key: 'x'.repeat(201), value: 1 }, 'must NOT have more than 200 characters'],
      [{ key: 'bad\u0000key', value: 1 }, 'must match pattern'],
      [{ key: 'bad\nkey', value: 1 }, 'must match pattern'],
      [{ key: 'k', value: 1, ttl: 0 }, 'must be >= 1'],
      [{ key: 'k', value: 1, ttl: -5 }, 'must be >= 1'],
      [{ key: 'k', value: 1, ttl: 2592001 }, 'must be <= 2592000'],
      [{ key: 'k', value: 1, ttl: 1.5 }, 'must be integer'],
      [{ key: 'k', value: 1, ttl: '60' }, 'must be integer'],
      [{ key: 42, value: 1 }, 'must be string'],
      [{ key: 'k', value: 1, extra: true }, 'must NOT have additional properties'],
      [[1, 2], 'must be object']
    ]
    for (const [json, message] of cases) {
      const { status, body } = await call(url, '/cache', { method: 'POST', json })
      assert.equal(status, 400, JSON.stringify(json))
      isError(body, 'bad_request')
      assert.ok(String(body.message).includes(message), `${JSON.stringify(json)} -> ${body.message}`)
    }
  })

  test('too deep, too large, not JSON, wrong content type', async () => {
    let deep: unknown = 1
    for (let i = 0; i < 100; i++) deep = [deep]
    isError((await call(url, '/cache', { method: 'POST', json: { key: 'deep', value: deep } })).body, 'bad_request')
    const big = await call(url, '/cache', { method: 'POST', json: { key: 'big', value: 'x'.repeat(1024 * 1024) } })
    assert.equal(big.status, 413)
    isError(big.body, 'payload_too_large')
    const malformed = await call(url, '/cache', {
      method: 'POST',
      body: '{"key": "k", ',
      headers: { 'content-type': 'application/json' }
    })
    assert.equal(malformed.status, 400)
    isError(malformed.body, 'bad_request')
    const text = await call(url, '/cache', {
      method: 'POST',
      body: 'key=k&value=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' }
    })
    assert.equal(text.status, 415)
    isError(text.body, 'unsupported_media_type')
    const plain = await call(url, '/cache', {
      method: 'POST',
      body: '{"key":"k","value":1}',
      headers: { 'content-type': 'text/plain' }
    })
    assert.equal(plain.status, 415)
  })
})

describe('users', () => {
  test("the ten sample users exist, listed in the seeds' shape {total, users}", async () => {
    const { status, body } = await call(url, '/users')
    assert.equal(status, 200)
    assert.equal(body.total, 10)
    assert.equal(body.users.length, 10)
    assert.equal(body.users[0]?.username, 'ana.silva')
    assert.deepEqual(Object.keys(body.users[0] ?? {}).sort(), ['created_at', 'email', 'id', 'updated_at', 'username'])
  })

  test('pagination with limit and offset; out-of-range values are refused', async () => {
    const page = await call(url, '/users?limit=3&offset=3')
    assert.deepEqual(
      page.body.users.map((u) => u.username),
      ['diego.santos', 'elisa.pereira', 'felipe.costa']
    )
    assert.equal(page.body.limit, 3)
    assert.equal(page.body.offset, 3)
    const past = await call(url, '/users?limit=5&offset=500')
    assert.equal(past.status, 200)
    assert.equal(past.body.total, 10)
    assert.equal(past.body.users.length, 0)
    for (const query of ['limit=0', 'limit=101', 'offset=-1', 'limit=abc', 'limit=2.5', 'foo=1']) {
      const { status, body } = await call(url, `/users?${query}`)
      assert.equal(status, 400, query)
      isError(body, 'bad_request')
    }
  })

  test('create, read, update, delete', async () => {
    const created = await call(url, '/users', { method: 'POST', json: { username: 'zoe', email: 'zoe@example.com' } })
    assert.equal(created.status, 201)
    assert.equal(created.headers.get('location'), `/users/${created.body.id}`)
    const id = Number(created.body.id)
    assert.equal((await call(url, `/users/${id}`)).body.email, 'zoe@example.com')
    const updated = await call(url, `/users/${id}`, { method: 'PATCH', json: { email: 'zoe@new.example.com' } })
    assert.equal(updated.status, 200)
    assert.equal(updated.body.username, 'zoe')
    assert.equal(updated.body.email, 'zoe@new.example.com')
    assert.ok(Date.parse(String(updated.body.updated_at)) >= Date.parse(String(created.body.updated_at)))
    assert.equal((await call(url, `/users/${id}`, { method: 'DELETE' })).status, 204)
    isError((await call(url, `/users/${id}`)).body, 'not_found')
    assert.equal((await call(url, `/users/${id}`, { method: 'DELETE' })).status, 404)
    assert.equal((await call(url, `/users/${id}`, { method: 'PATCH', json: { username: 'ghost' } })).status, 404)
  })

  test('username and email are unique (case-insensitive): 409', async () => {
    const taken = await call(url, '/users', {
      method: 'POST',
      json: { username: 'ANA.SILVA', email: 'other@example.com' }
    })
    assert.equal(taken.status, 409)
    isError(taken.body, 'conflict')
    assert.match(String(taken.body.message), /username/)
    const email = await call(url, '/users', {
      method: 'POST',
      json: { username: 'someone', email: 'Bruno.Souza@example.com' }
    })
    assert.equal(email.status, 409)
    assert.match(String(email.body.message), /email/)
    const patch = await call(url, '/users/1', { method: 'PATCH', json: { email: 'carla.oliveira@example.com' } })
    assert.equal(patch.status, 409)
  })

  test('invalid users and ids are refused with 400', async () => {
    const bodies = [
      { username: 'x', email: 'not-an-email' },
      { username: '', email: 'a@example.com' },
      { username: '   ', email: 'a@example.com' },
      { username: 'u'.repeat(51), email: 'a@example.com' },
      { username: 'x' },
      { username: 'x', email: 'a@example.com', admin: true },
      { username: 123, email: 'a@example.com' }
    ]
    for (const json of bodies) {
      const { status, body } = await call(url, '/users', { method: 'POST', json })
      assert.equal(status, 400, JSON.stringify(json))
      isError(body, 'bad_request')
    }
    assert.equal((await call(url, '/users/1', { method: 'PATCH', json: {} })).status, 400)
    for (const id of ['0', '-1', 'abc', '1.5', '99999999999999999999']) {
      assert.equal((await call(url, `/users/${id}`)).status, 400, id)
    }
  })

  test('SQL-shaped input is stored literally', async () => {
    const username = "robert'); DROP TABLE users;--"
    const created = await call(url, '/users', { method: 'POST', json: { username, email: 'bobby@example.com' } })
    assert.equal(created.status, 201)
    assert.equal((await call(url, `/users/${created.body.id}`)).body.username, username)
    assert.ok(Number((await call(url, '/users')).body.total) >= 11)
  })
})

describe('health and operations', () => {
  test('GET /health: healthy with per-service status, latency and version', async () => {
    const { status, body } = await call(url, '/health')
    assert.equal(status, 200)
    assert.equal(body.status, 'healthy')
    assert.equal(body.services.db.status, 'up')
    assert.equal(body.services.cache.status, 'up')
    assert.equal(body.services.web.status, 'up')
    assert.equal(typeof body.services.db.latency_ms, 'number')
    assert.match(String(body.services.cache.version), /^\d+\.\d+/)
    assert.ok('hit_ratio' in body.cache_stats)
    assert.equal(body.stack_images, undefined, 'official images: nothing to label')
  })

  test('/livez and /readyz', async () => {
    assert.deepEqual((await call(url, '/livez')).body, { status: 'ok' })
    const ready = await call(url, '/readyz')
    assert.equal(ready.status, 200)
    assert.equal(ready.body.status, 'ready')
  })

  test('/metrics is Prometheus text with request and cache metrics', async () => {
    await call(url, '/visits')
    const { status, body, headers } = await call(url, '/metrics')
    assert.equal(status, 200)
    assert.match(headers.get('content-type') ?? '', /text\/plain/)
    assert.match(String(body), /http_request_duration_seconds_bucket\{.*route="\/visits"/)
    assert.match(String(body), /cache_lookups_total\{cache="visits",result="(hit|miss)"\}/)
    assert.match(String(body), /visits_recorded_total \d+/)
  })

  test('/metrics: cache lookups are counted exactly, across scrapes', async () => {
    const lookups = async () => {
      const text = String((await call(url, '/metrics')).body)
      const count = (result: string) =>
        Number(
          new RegExp(`^cache_lookups_total\\{cache="visits",result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0
        )
      return count('hit') + count('miss') + count('error')
    }
    await call(url, '/visits')
    const before = await lookups()
    for (let i = 0; i < 7; i++) await call(url, '/visits')
    const between = await lookups()
    const again = await lookups()
    for (let i = 0; i < 5; i++) await call(url, '/visits')
    assert.equal(between - before, 7)
    assert.equal(again, between, 'a scrape with no lookups since the last adds nothing')
    assert.equal((await lookups()) - again, 5)
  })

  test('/metrics: only counters end in _total (Prometheus naming, as promtool checks)', async () => {
    const { body } = await call(url, '/metrics')
    const types = [...String(body).matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name, type }))
    assert.ok(types.length > 10)
    const wrong = types.filter(({ name, type }) => name!.endsWith('_total') && type !== 'counter')
    assert.deepEqual(wrong, [])
  })

  test('/docs serves the OpenAPI UI and document from local assets', async () => {
    const page = await call(url, '/docs/')
    assert.equal(page.status, 200)
    assert.doesNotMatch(String(page.body), /https?:\/\/(?!localhost|127\.)[a-z]/i)
    const spec = await call(url, '/docs/json')
    assert.equal(spec.status, 200)
    assert.match(String(spec.body.openapi), /^3\./)
    for (const path of ['/', '/visits', '/db', '/cache', '/cache/{key}', '/users', '/users/{id}', '/health']) {
      assert.ok(path in spec.body.paths, path)
    }
  })

  test('unknown routes and wrong methods: 404 JSON', async () => {
    isError((await call(url, '/nope')).body, 'not_found')
    const wrongMethod = await call(url, '/visits', { method: 'POST', json: {} })
    assert.equal(wrongMethod.status, 404)
    isError(wrongMethod.body, 'not_found')
  })

  test('request ids: generated, or taken from X-Request-Id when well-formed', async () => {
    const generated = await call(url, '/livez')
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/)
    const given = await call(url, '/livez', { headers: { 'x-request-id': 'trace-123' } })
    assert.equal(given.headers.get('x-request-id'), 'trace-123')
    const hostile = await call(url, '/livez', { headers: { 'x-request-id': 'a b<script>' } })
    assert.notEqual(hostile.headers.get('x-request-id'), 'a b<script>')
  })

  test('security headers on every response', async () => {
    for (const path of ['/livez', '/nope', '/users']) {
      const { headers } = await call(url, path)
      assert.equal(headers.get('x-content-type-options'), 'nosniff', path)
      assert.ok(headers.get('content-security-policy'), path)
    }
  })
})
