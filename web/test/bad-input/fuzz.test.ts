// Guarantee 6, property-based: random input to the JSON routes never gets a 5xx, every refusal is
// a 4xx with {error, message}, and every accepted value reads back identical.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { startStack, type TestStack } from '../helpers/index.js'

let stack: TestStack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())

const RUNS = Number(process.env.FUZZ_RUNS ?? 150)
const seedNote = 'set FAST_CHECK_SEED to replay a failure'
const params = { numRuns: RUNS, seed: process.env.FAST_CHECK_SEED ? Number(process.env.FAST_CHECK_SEED) : undefined }

interface Answer {
  status: number
  body: unknown
  text: string
}

async function request(
  method: string,
  path: string,
  body?: string | Uint8Array,
  contentType = 'application/json'
): Promise<Answer> {
  const res = await fetch(stack.url + path, {
    method,
    body,
    headers: body === undefined ? {} : { 'content-type': contentType }
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text === '' ? null : JSON.parse(text)
  } catch {
    // keep the text
  }
  return { status: res.status, body: parsed, text }
}

/** A refusal must be a 4xx with {error, message}; a 5xx is always a failure. */
function checkAnswer(answer: Answer, allowed: number[], what: string): void {
  assert.ok(answer.status < 500, `${what}: ${answer.status} ${answer.text.slice(0, 300)}`)
  assert.ok(allowed.includes(answer.status), `${what}: unexpected ${answer.status} ${answer.text.slice(0, 300)}`)
  if (answer.status >= 400) {
    const body = answer.body as { error?: unknown; message?: unknown }
    assert.equal(typeof body?.error, 'string', answer.text)
    assert.equal(typeof body?.message, 'string', answer.text)
  }
}

const isWellFormed = (text: string) => !/\p{Cs}/u.test(text)

// Text with everything in it: any code point, control characters, and lone surrogates.
const anyText = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({
      unit: fc.oneof(
        fc.constantFrom('\ud800', '\udfff', '\u0000', '\u0085', '/', '%', '..'),
        fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 })
      ),
      maxLength
    })
  )

// Keys that must be accepted: 1 to 200 code points of any script or emoji, no control characters.
const validKey = fc
  .string({
    unit: fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
      fc.constantFrom('🚀', 'é', '日', '/', '%2F', '..', ' ', "'", '"')
    ),
    minLength: 1,
    maxLength: 60
  })
  .filter((key) => !/\p{Cc}/u.test(key) && key !== '.' && key !== '..' && [...key].length <= 200)

test('POST /cache with random bodies: never 5xx; an accepted value reads back identical', async () => {
  let accepted = 0
  await fc.assert(
    fc.asyncProperty(
      fc.record(
        {
          // Mostly near-valid bodies, so that many are accepted and their read-back is checked too.
          key: fc.oneof(
            { weight: 4, arbitrary: anyText(220) },
            { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }
          ),
          value: fc.jsonValue({ maxDepth: 8 }),
          ttl: fc.oneof(
            { weight: 3, arbitrary: fc.constant(undefined) },
            { weight: 2, arbitrary: fc.integer({ min: -10, max: 3_000_000 }) },
            { weight: 1, arbitrary: fc.oneof(fc.double(), fc.string({ maxLength: 5 }), fc.constant(null)) }
          ),
          extra: fc.oneof(
            { weight: 6, arbitrary: fc.constant(undefined) },
            { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }
          )
        },
        { requiredKeys: [] }
      ),
      async (body) => {
        const answer = await request('POST', '/cache', JSON.stringify(body))
        checkAnswer(answer, [201, 400], 'POST /cache')
        if (answer.status !== 201) return
        accepted++
        assert.equal(typeof body.key, 'string')
        const key = body.key as string
        assert.ok(isWellFormed(key), 'a key with a lone surrogate was accepted')
        const read = await request('GET', `/cache/${encodeURIComponent(key)}`)
        checkAnswer(read, [200], 'GET /cache/:key')
        const stored = read.body as { key: string; value: unknown; ttl: number }
        assert.equal(stored.key, key)
        assert.deepEqual(stored.value, JSON.parse(JSON.stringify(body.value)))
      }
    ),
    params
  )
  console.log(`fuzz POST /cache: ${RUNS} random bodies, ${accepted} accepted and read back identical (${seedNote})`)
})

test('POST /cache with valid random input: always accepted, and reads back identical', async () => {
  await fc.assert(
    fc.asyncProperty(
      validKey,
      fc.jsonValue({ maxDepth: 10 }),
      fc.option(fc.integer({ min: 1, max: 2_592_000 }), { nil: undefined }),
      async (key, value, ttl) => {
        const json = JSON.stringify({ key, value, ttl })
        const answer = await request('POST', '/cache', json)
        // The JSON parser refuses __proto__ and constructor.prototype keys on purpose.
        if (/"(__proto__|constructor)"/.test(json) && answer.status === 400) return
        checkAnswer(answer, [201], `POST /cache ${json.slice(0, 200)}`)
        const read = await request('GET', `/cache/${encodeURIComponent(key)}`)
        checkAnswer(read, [200], 'GET /cache/:key')
        const stored = read.body as { key: string; value: unknown; ttl: number }
        assert.equal(stored.key, key)
        assert.deepEqual(stored.value, JSON.parse(JSON.stringify(value)))
        assert.ok(stored.ttl > 0 && stored.ttl <= (ttl ?? 3600))
        const removed = await request('DELETE', `/cache/${encodeURIComponent(key)}`)
        checkAnswer(removed, [204], 'DELETE /cache/:key')
      }
    ),
    params
  )
  console.log(`fuzz valid /cache input: ${RUNS} keys and values stored, read back identical and deleted`)
})

test('GET and DELETE /cache/<random path>: never 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'DELETE'),
      fc.string({
        unit: fc.oneof(
          fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
          fc.constantFrom('%', '%00', '%2F', '%E0%A4', '%ZZ', '../', '%F0%9F%9A%80')
        ),
        maxLength: 80
      }),
      async (method, path) => {
        let answer: Answer
        try {
          answer = await request(method, `/cache/${path}`)
        } catch (err) {
          // fetch itself refuses some URLs (e.g. with spaces it encodes, or invalid ones): nothing reached the service.
          if (err instanceof TypeError) return
          throw err
        }
        checkAnswer(answer, [200, 204, 400, 404, 414], `${method} /cache/${path}`)
      }
    ),
    params
  )
})

test('POST /users with random bodies: never 5xx; an accepted user reads back identical', async () => {
  let accepted = 0
  await fc.assert(
    fc.asyncProperty(
      fc.record(
        {
          username: fc.oneof(anyText(60), fc.jsonValue({ maxDepth: 1 })),
          email: fc.oneof(fc.emailAddress(), anyText(40), fc.integer())
        },
        { requiredKeys: [] }
      ),
      async (body) => {
        const answer = await request('POST', '/users', JSON.stringify(body))
        checkAnswer(answer, [201, 400, 409], 'POST /users')
        if (answer.status !== 201) return
        accepted++
        const created = answer.body as { id: number; username: string; email: string }
        assert.equal(created.username, body.username)
        assert.equal(created.email, body.email)
        const read = await request('GET', `/users/${created.id}`)
        checkAnswer(read, [200], 'GET /users/:id')
        const user = read.body as { username: string; email: string }
        assert.equal(user.username, body.username)
        assert.equal(user.email, body.email)
      }
    ),
    params
  )
  console.log(`fuzz POST /users: ${RUNS} random bodies, ${accepted} users accepted and read back identical`)
})

test('PATCH /users/:id with random ids and bodies: never 5xx; an accepted change reads back identical', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.integer({ min: 1, max: 15 }),
        fc.integer(),
        fc.constantFrom('abc', '1.5', '-0', '1e3', '0x10', '%20', '99999999999999999999')
      ),
      fc.record(
        { username: fc.oneof(anyText(60), fc.constant(null)), email: fc.oneof(fc.emailAddress(), anyText(20)) },
        { requiredKeys: [] }
      ),
      async (id, body) => {
        const answer = await request('PATCH', `/users/${encodeURIComponent(String(id))}`, JSON.stringify(body))
        checkAnswer(answer, [200, 400, 404, 409], 'PATCH /users/:id')
        if (answer.status !== 200) return
        const read = (await request('GET', `/users/${(answer.body as { id: number }).id}`)).body as {
          username: string
          email: string
        }
        if (body.username !== undefined) assert.equal(read.username, body.username)
        if (body.email !== undefined) assert.equal(read.email, body.email)
      }
    ),
    params
  )
})

test('GET /users with random query strings: never 5xx; accepted pages respect the limit', async () => {
  const part = fc.oneof(
    fc.integer({ min: -5, max: 200 }).map(String),
    fc.string({ maxLength: 6 }),
    fc.constantFrom('1e2', '0x10', ' 5', '5 ', '', 'null', '[]')
  )
  await fc.assert(
    fc.asyncProperty(
      fc.option(part, { nil: undefined }),
      fc.option(part, { nil: undefined }),
      async (limit, offset) => {
        const query = new URLSearchParams()
        if (limit !== undefined) query.set('limit', limit)
        if (offset !== undefined) query.set('offset', offset)
        const answer = await request('GET', `/users?${query}`)
        checkAnswer(answer, [200, 400], `GET /users?${query}`)
        if (answer.status === 200) {
          const page = answer.body as { users: unknown[]; limit: number }
          assert.ok(page.users.length <= page.limit)
        }
      }
    ),
    params
  )
})

test('random bytes as a JSON body to every write route: never 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(
        ['POST', '/cache'],
        ['POST', '/users'],
        ['PATCH', '/users/1'],
        ['DELETE', '/cache/x'],
        ['POST', '/']
      ),
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ unit: 'binary', maxLength: 300 }).map((s) => new TextEncoder().encode(s))
      ),
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/octet-stream',
        'application/x-www-form-urlencoded'
      ),
      async ([method, path], bytes, contentType) => {
        const answer = await request(method, path, bytes, contentType)
        checkAnswer(answer, [200, 201, 204, 400, 404, 409, 413, 415], `${method} ${path} (${contentType})`)
      }
    ),
    params
  )
  const health = await request('GET', '/health')
  assert.equal(health.status, 200, 'still healthy after the fuzzing')
})
