// The served OpenAPI document is a valid OpenAPI document, and it tells the truth: the real
// responses of every route, for every status it documents, match it (status, content type, body
// schema). Checked with validators of their own (an OpenAPI schema validator, and Ajv on the
// document's schemas), not with the schemas Fastify serializes with.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv } from 'ajv'
import addFormatsPlugin from 'ajv-formats'
import { startStack, type TestStack } from '../helpers/index.js'

const TOKEN = 'openapi-test-token-0123456789'
const RATE_LIMIT = 100
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv

interface Operation {
  parameters?: Array<{ name: string; in: string; required?: boolean }>
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>
  security?: Array<Record<string, string[]>>
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: unknown }

let stack: TestStack
let doc: Document
const ajv = new Ajv({ strict: false, allErrors: true })
addFormats(ajv)
/** `METHOD /template status` of each response checked. */
const seen = new Set<string>()

before(async () => {
  stack = await startStack({ API_TOKEN: TOKEN, RATE_LIMIT_MAX: String(RATE_LIMIT) })
  doc = (await (await fetch(`${stack.url}/docs/json`)).json()) as Document
  ajv.addSchema(doc as object, 'openapi.json')
})
after(async () => {
  stack.redis.resume()
  await stack.close()
})

/** The path template of the document that a concrete path matches. */
function template(path: string): string {
  const bare = path.split('?')[0]!
  for (const candidate of Object.keys(doc.paths)) {
    const pattern = new RegExp(`^${candidate.replace(/\{[^}]+\}/g, '[^/]+')}$`)
    if (pattern.test(bare)) return candidate
  }
  throw new Error(`no path of the document matches ${bare}`)
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')

/** Sends a request and checks its answer against the document. */
async function check(
  method: string,
  path: string,
  init: { json?: unknown; body?: string; headers?: Record<string, string>; auth?: boolean } = {}
): Promise<number> {
  const headers = new Headers(init.headers)
  if (init.auth !== false && method !== 'GET') headers.set('authorization', `Bearer ${TOKEN}`)
  if (init.json !== undefined) headers.set('content-type', 'application/json')
  const response = await fetch(stack.url + path, {
    method,
    headers,
    body: init.json !== undefined ? JSON.stringify(init.json) : init.body
  })
  const text = await response.text()
  const where = `${method} ${path} -> ${response.status}`
  const tpl = template(path)
  const operation = doc.paths[tpl]?.[method.toLowerCase()]
  assert.ok(operation, `${method} ${tpl} is not in the document`)
  const documented = operation.responses[String(response.status)]
  assert.ok(documented, `${where}: status not documented (${text.slice(0, 200)})`)
  seen.add(`${method} ${tpl} ${response.status}`)
  if (documented.content === undefined) {
    assert.equal(text, '', `${where}: the document declares no body`)
    return response.status
  }
  const contentType = response.headers.get('content-type') ?? ''
  const mediaType = Object.keys(documented.content).find(
    (declared) => declared.split(';')[0]!.trim() === contentType.split(';')[0]!.trim()
  )
  assert.ok(mediaType, `${where}: content type ${contentType} not among ${Object.keys(documented.content).join(', ')}`)
  const ref = `openapi.json#/${pointer('paths', tpl, method.toLowerCase(), 'responses', String(response.status), 'content', mediaType, 'schema')}`
  const validate = ajv.getSchema(ref)
  assert.ok(validate, `${where}: no schema at ${ref}`)
  const body: unknown = mediaType.startsWith('application/json') ? JSON.parse(text) : text
  assert.ok(validate(body), `${where}: ${ajv.errorsText(validate.errors)} in ${text.slice(0, 300)}`)
  return response.status
}

test('the served document is valid OpenAPI', async () => {
  const validator = new Validator()
  const result = await validator.validate(doc as unknown as Parameters<Validator['validate']>[0])
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1))
  assert.equal(validator.version, doc.openapi.slice(0, 3))
})

test('parameters with a default are optional; writes declare the bearer token; /metrics its content type', () => {
  const query = (path: string) => doc.paths[path]!.get!.parameters!.filter((p) => p.in === 'query')
  for (const p of [...query('/users'), ...query('/visits/recent')]) assert.notEqual(p.required, true, p.name)
  assert.deepEqual((doc.components as { securitySchemes: unknown }).securitySchemes, {
    bearerAuth: {
      type: 'http',
      scheme: 'bearer',
      description: 'The API_TOKEN the service was started with; needed by writes when it is set'
    }
  })
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const write = ['post', 'put', 'patch', 'delete'].includes(method)
      assert.deepEqual(operation.security, write ? [{ bearerAuth: [] }] : undefined, `${method} ${path}`)
    }
  }
  assert.match(Object.keys(doc.paths['/metrics']!.get!.responses['200']!.content ?? {}).join(), /^text\/plain/)
})

test('every route and every documented status: the real answer matches the document', async () => {
  const big = 'x'.repeat(1_100_000)
  const key = 'openapi-key'
  // Healthy dependencies.
  await check('GET', '/')
  await check('GET', '/', { headers: { accept: 'text/html' } })
  await check('GET', '/visits')
  await check('GET', '/visits/recent')
  await check('GET', '/visits/recent?limit=0')
  await check('GET', '/db')
  await check('GET', '/cache')
  await check('POST', '/cache', { json: { key, value: { a: [1, 'b', null] }, ttl: 60 } })
  await check('POST', '/cache', { json: { key: '' } })
  await check('POST', '/cache', { json: { key, value: 1 }, auth: false })
  await check('POST', '/cache', { body: 'text', headers: { 'content-type': 'text/plain' } })
  await check('POST', '/cache', {
    body: JSON.stringify({ key, value: big }),
    headers: { 'content-type': 'application/json' }
  })
  await check('GET', `/cache/${key}`)
  await check('GET', '/cache/missing-key')
  await stack.redis.command((r) => r.hset('kv:a-hash', 'field', 'value'))
  assert.equal(await check('GET', '/cache/a-hash'), 409)
  await check('GET', `/cache/${'k'.repeat(300)}`)
  await check('DELETE', `/cache/${key}`)
  await check('DELETE', `/cache/${key}`)
  await check('DELETE', `/cache/${key}`, { auth: false })
  await check('DELETE', `/cache/${'k'.repeat(300)}`)
  await check('GET', '/users')
  await check('GET', '/users?limit=2&offset=1')
  await check('GET', '/users?limit=0')
  const user = { username: 'openapi.user', email: 'openapi.user@example.com' }
  assert.equal(await check('POST', '/users', { json: user }), 201)
  await check('POST', '/users', { json: user })
  await check('POST', '/users', { json: { username: 'x' } })
  await check('POST', '/users', { json: user, auth: false })
  await check('POST', '/users', { body: 'text', headers: { 'content-type': 'text/plain' } })
  await check('POST', '/users', {
    body: JSON.stringify({ ...user, big }),
    headers: { 'content-type': 'application/json' }
  })
  await check('GET', '/users/1')
  await check('GET', '/users/999999')
  await check('GET', '/users/abc')
  await check('PATCH', '/users/1', { json: { email: 'ana.silva2@example.com' } })
  await check('PATCH', '/users/1', { json: { username: 'openapi.user' } })
  await check('PATCH', '/users/999999', { json: { email: 'nobody@example.com' } })
  await check('PATCH', '/users/1', { json: {} })
  await check('PATCH', '/users/1', { json: { email: 'x@example.com' }, auth: false })
  await check('PATCH', '/users/1', { body: 'text', headers: { 'content-type': 'text/plain' } })
  await check('PATCH', '/users/1', {
    body: JSON.stringify({ email: big }),
    headers: { 'content-type': 'application/json' }
  })
  await check('DELETE', '/users/2')
  await check('DELETE', '/users/2')
  await check('DELETE', '/users/abc')
  await check('DELETE', '/users/3', { auth: false })
  for (const path of ['/health', '/livez', '/readyz', '/metrics']) await check('GET', path)

  // Redis frozen: the routes that need it answer 503.
  stack.redis.pause()
  for (const [method, path] of [
    ['GET', '/cache'],
    ['GET', `/cache/${key}`],
    ['DELETE', `/cache/${key}`],
    ['GET', '/health'],
    ['GET', '/readyz']
  ] as const) {
    await check(method, path)
  }
  await check('POST', '/cache', { json: { key, value: 1 } })
  stack.redis.resume()

  // PostgreSQL gone: the routes that need it answer 503.
  await stack.pg.stop()
  for (const [method, path] of [
    ['GET', '/'],
    ['GET', '/visits/recent'],
    ['GET', '/db'],
    ['GET', '/readyz'],
    ['GET', '/users?limit=7'],
    ['GET', '/users/12345'],
    ['DELETE', '/users/4'],
    ['GET', '/health']
  ] as const) {
    await check(method, path)
  }
  await check('POST', '/users', { json: { username: 'down', email: 'down@example.com' } })
  await check('PATCH', '/users/4', { json: { email: 'down@example.com' } })
  // The visit total is served from Redis while it answers; with both away there is nowhere to read it.
  stack.redis.pause()
  await check('GET', '/visits')
  stack.redis.resume()

  // Over the write limit: every write, and the counting GET /, answers 429.
  for (let i = 0; i < RATE_LIMIT; i++) await check('POST', '/cache', { json: {} })
  for (const [method, path] of [
    ['GET', '/'],
    ['DELETE', `/cache/${key}`],
    ['DELETE', '/users/5']
  ] as const) {
    assert.equal(await check(method, path), 429, `${method} ${path}`)
  }
  for (const path of ['/cache', '/users']) assert.equal(await check('POST', path, { json: {} }), 429)
  assert.equal(await check('PATCH', '/users/5', { json: {} }), 429)

  const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations).flatMap(([method, operation]) =>
      Object.keys(operation.responses).map((status) => `${method.toUpperCase()} ${path} ${status}`)
    )
  )
  const missed = documented.filter((pair) => !seen.has(pair))
  console.log(
    `OpenAPI: ${seen.size} of ${documented.length} documented (route, status) pairs checked against real answers`
  )
  assert.deepEqual(missed, [], 'every documented status was produced and checked')
})
