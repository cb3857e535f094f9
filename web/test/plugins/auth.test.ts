// Secure by default: optional bearer token on writes, rate limiting of writes, security headers on
// every response, CORS off unless configured. (Redis password and TLS: test/cache/redis-auth-and-tls.test.ts.)
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { call, startStack, type TestStack } from '../helpers/index.js'

const TOKEN = 'test-token-0123456789abcdef'
const WRITES: Array<[string, string, unknown]> = [
  ['POST', '/cache', { key: 'guarded', value: 1 }],
  ['DELETE', '/cache/guarded', undefined],
  ['POST', '/users', { username: 'guarded', email: 'guarded@example.com' }],
  ['PATCH', '/users/1', { username: 'renamed' }],
  ['DELETE', '/users/2', undefined]
]

describe('API_TOKEN: writes need the bearer token, reads stay open', () => {
  let stack: TestStack
  before(async () => {
    stack = await startStack({ API_TOKEN: TOKEN })
  })
  after(() => stack.close())

  const badHeaders: Array<[string, Record<string, string>]> = [
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer wrong-token-0123456789abcdef' }],
    ['a token that is a prefix of the right one', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['the right token with a suffix', { authorization: `Bearer ${TOKEN}x` }],
    ['the right token without the Bearer scheme', { authorization: TOKEN }],
    [
      'the right token as Basic credentials',
      { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` }
    ],
    ['an empty bearer token', { authorization: 'Bearer ' }]
  ]

  for (const [what, headers] of badHeaders) {
    test(`401 with ${what}, and nothing is written`, async () => {
      for (const [method, path, json] of WRITES) {
        const { status, body, headers: h } = await call(stack.url, path, { method, json, headers })
        assert.equal(status, 401, `${method} ${path}`)
        assert.equal(body.error, 'unauthorized')
        assert.match(String(body.message), /Authorization: Bearer/)
        assert.equal(h.get('www-authenticate'), 'Bearer')
        assert.equal(h.get('x-content-type-options'), 'nosniff')
      }
      assert.equal(await stack.redis.command((r) => r.exists('kv:guarded')), 0)
      const [{ n }] = await stack.pg.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM users WHERE username IN ('guarded', 'renamed')"
      )
      assert.equal(n, 0)
    })
  }

  test('the 401 comes before the body is read: an oversized body without the token is still 401', async () => {
    const { status } = await call(stack.url, '/cache', {
      method: 'POST',
      json: { key: 'k', value: 'x'.repeat(2 * 1024 * 1024) }
    })
    assert.equal(status, 401)
  })

  test('with the right token every write goes through', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` }
    const expected = [201, 204, 201, 200, 204]
    for (const [i, [method, path, json]] of WRITES.entries()) {
      if (method === 'DELETE' && path === '/cache/guarded')
        await call(stack.url, '/cache', { method: 'POST', json: { key: 'guarded', value: 1 }, headers: auth })
      const { status, body } = await call(stack.url, path, { method, json, headers: auth })
      assert.equal(status, expected[i], `${method} ${path}: ${JSON.stringify(body)}`)
    }
  })

  test('the scheme name is case-insensitive, the token is not', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const { status } = await call(stack.url, '/cache', {
        method: 'POST',
        json: { key: 'scheme', value: scheme },
        headers: { authorization: `${scheme} ${TOKEN}` }
      })
      assert.equal(status, 201, scheme)
    }
    const { status } = await call(stack.url, '/cache', {
      method: 'POST',
      json: { key: 'scheme', value: 1 },
      headers: { authorization: `Bearer ${TOKEN.toUpperCase()}` }
    })
    assert.equal(status, 401)
  })

  test('reads need no token', async () => {
    for (const path of [
      '/',
      '/visits',
      '/users',
      '/users/1',
      '/db',
      '/cache',
      '/health',
      '/livez',
      '/readyz',
      '/metrics'
    ]) {
      assert.equal((await call(stack.url, path)).status, 200, path)
    }
  })
})

describe('rate limiting of writes (RATE_LIMIT_MAX)', () => {
  let stack: TestStack
  before(async () => {
    stack = await startStack({ RATE_LIMIT_MAX: '5' })
  })
  after(() => stack.close())

  test('the 6th write in a minute gets 429 with Retry-After; reads are not limited', async () => {
    for (let i = 0; i < 5; i++) {
      const { status, headers } = await call(stack.url, '/cache', { method: 'POST', json: { key: `r${i}`, value: i } })
      assert.equal(status, 201)
      assert.equal(headers.get('x-ratelimit-limit'), '5')
    }
    for (const [method, path, json] of WRITES) {
      const { status, body, headers } = await call(stack.url, path, { method, json })
      assert.equal(status, 429, `${method} ${path}`)
      assert.equal(body.error, 'too_many_requests')
      assert.match(String(body.message), /Rate limit of 5 writes per minute/)
      const retryAfter = Number(headers.get('retry-after'))
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${headers.get('retry-after')}`)
      assert.equal(headers.get('x-content-type-options'), 'nosniff')
    }
    assert.equal(await stack.redis.command((r) => r.exists('kv:guarded')), 0, 'a limited write is not applied')
    for (let i = 0; i < 20; i++) assert.equal((await call(stack.url, i % 2 ? '/users' : '/cache/r1')).status, 200)
  })

  test('counted visits (GET /) are limited like writes; other reads are not', async () => {
    const limited = await startStack({ RATE_LIMIT_MAX: '3' })
    try {
      for (let i = 0; i < 3; i++) assert.equal((await call(limited.url, '/')).status, 200)
      const over = await call(limited.url, '/')
      assert.equal(over.status, 429)
      assert.match(String(over.body.message), /visits count as writes/)
      assert.equal((await call(limited.url, '/visits')).status, 200)
      assert.equal((await call(limited.url, '/', { method: 'HEAD' })).status, 200, 'HEAD counts nothing')
      const [{ total }] = await limited.pg.query<{ total: number }>(
        "SELECT total::int FROM visit_counter WHERE label = 'homepage'"
      )
      assert.equal(total, 3)
    } finally {
      await limited.close()
    }
  })

  test('off by default: 50 writes in a row all succeed', async () => {
    const open = await startStack()
    try {
      for (let i = 0; i < 50; i++)
        assert.equal((await call(open.url, '/cache', { method: 'POST', json: { key: `w${i}`, value: i } })).status, 201)
    } finally {
      await open.close()
    }
  })
})

describe('security headers and CORS', () => {
  let stack: TestStack
  let cors: TestStack
  before(async () => {
    ;[stack, cors] = await Promise.all([
      startStack(),
      startStack({ CORS_ORIGIN: 'http://allowed.test,http://also.test' })
    ])
  })
  after(async () => {
    await Promise.all([stack.close(), cors.close()])
  })

  function raw(
    base: string,
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
    const url = new URL(base)
    return new Promise((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }))
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  test('every kind of response carries the security headers and no X-Powered-By', async () => {
    const responses: Array<[string, Promise<{ status: number; headers: http.IncomingHttpHeaders }>]> = [
      ['200 JSON', raw(stack.url, 'GET', '/users')],
      ['200 metrics', raw(stack.url, 'GET', '/metrics')],
      ['200 docs', raw(stack.url, 'GET', '/docs/')],
      ['201', raw(stack.url, 'POST', '/cache', { 'content-type': 'application/json' }, '{"key":"h","value":1}')],
      ['204', raw(stack.url, 'DELETE', '/cache/h')],
      ['400 validation', raw(stack.url, 'GET', '/users?limit=0')],
      ['400 bad URL', raw(stack.url, 'GET', '/cache/%E0%A4%A')],
      ['404', raw(stack.url, 'GET', '/nope')],
      [
        '413',
        raw(
          stack.url,
          'POST',
          '/cache',
          { 'content-type': 'application/json' },
          JSON.stringify({ key: 'b', value: 'x'.repeat(1024 * 1024) })
        )
      ],
      ['415', raw(stack.url, 'POST', '/cache', { 'content-type': 'text/plain' }, 'x')]
    ]
    for (const [what, pending] of responses) {
      const { status, headers } = await pending
      assert.ok(status > 0, what)
      assert.equal(headers['x-content-type-options'], 'nosniff', what)
      assert.ok(headers['content-security-policy'], `${what}: Content-Security-Policy`)
      assert.match(String(headers['content-security-policy']), /default-src '(self|none)'/, what)
      assert.equal(headers['x-powered-by'], undefined, what)
    }
  })

  test('JSON answers carry the API policy; HTML answers carry the document one', async () => {
    const json = await raw(stack.url, 'GET', '/livez')
    assert.equal(json.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'")
    assert.equal(json.headers['cross-origin-resource-policy'], 'same-origin')
    // Headers that only act on a document are left off what is never rendered as one.
    assert.equal(json.headers['cross-origin-opener-policy'], undefined)
    assert.equal(json.headers['x-dns-prefetch-control'], undefined)
    const html = await raw(stack.url, 'GET', '/docs/')
    assert.match(String(html.headers['content-type']), /^text\/html/)
    assert.match(String(html.headers['content-security-policy']), /default-src 'self'/)
    assert.equal(html.headers['x-frame-options'], 'SAMEORIGIN')
    assert.equal(html.headers['referrer-policy'], 'no-referrer')
    assert.equal(html.headers['cross-origin-opener-policy'], 'same-origin')
    assert.equal(html.headers['x-content-type-options'], 'nosniff')
  })

  test('CORS is off by default: no Access-Control-Allow-Origin, and no preflight route', async () => {
    const simple = await raw(stack.url, 'GET', '/users', { origin: 'http://evil.test' })
    assert.equal(simple.status, 200)
    assert.equal(simple.headers['access-control-allow-origin'], undefined)
    const preflight = await raw(stack.url, 'OPTIONS', '/cache', {
      origin: 'http://evil.test',
      'access-control-request-method': 'POST'
    })
    assert.equal(preflight.headers['access-control-allow-origin'], undefined)
    assert.equal(preflight.status, 404)
  })

  test('CORS_ORIGIN allows exactly the listed origins', async () => {
    const allowed = await raw(cors.url, 'GET', '/users', { origin: 'http://allowed.test' })
    assert.equal(allowed.headers['access-control-allow-origin'], 'http://allowed.test')
    const also = await raw(cors.url, 'GET', '/users', { origin: 'http://also.test' })
    assert.equal(also.headers['access-control-allow-origin'], 'http://also.test')
    const other = await raw(cors.url, 'GET', '/users', { origin: 'http://evil.test' })
    assert.equal(other.headers['access-control-allow-origin'], undefined)
    const preflight = await raw(cors.url, 'OPTIONS', '/cache', {
      origin: 'http://allowed.test',
      'access-control-request-method': 'POST'
    })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers['access-control-allow-origin'], 'http://allowed.test')
  })
})
