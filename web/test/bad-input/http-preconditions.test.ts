// Requests HTTP/1.1 refuses before any route: no Host header, an Expect the server cannot meet.
// They get the service's {error, message} body and its security headers, not Node's empty answer.
// Sent over a raw socket, since an HTTP client adds Host by itself.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { call, startStack, type TestStack } from '../helpers/index.js'
import { rawSocket, type RawReply } from './raw-client.js'

let stack: TestStack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())

function isShapedError(reply: RawReply, status: number, error: string): void {
  assert.equal(reply.status, status, JSON.stringify(reply))
  assert.match(String(reply.headers['content-type']), /^application\/json/)
  const body = JSON.parse(reply.body) as Record<string, unknown>
  assert.equal(body.error, error)
  assert.equal(typeof body.message, 'string')
  assert.ok(String(body.message).length > 0)
  assert.equal(reply.headers['x-content-type-options'], 'nosniff')
  assert.ok(reply.headers['content-security-policy'], 'security headers present')
  assert.ok(reply.headers['x-request-id'], 'request id present')
}

test('HTTP/1.1 without Host: 400 {error, message} with the security headers', async () => {
  for (const path of ['/visits', '/no-such-route']) {
    const reply = await rawSocket(stack.url, `GET ${path} HTTP/1.1\r\nConnection: close\r\n\r\n`)
    isShapedError(reply, 400, 'bad_request')
    assert.match(reply.body, /Host/)
  }
})

test('a write without Host is refused and not applied', async () => {
  const body = JSON.stringify({ key: 'nohost', value: 1 })
  const reply = await rawSocket(
    stack.url,
    `POST /cache HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
  )
  isShapedError(reply, 400, 'bad_request')
  assert.equal((await call(stack.url, '/cache/nohost')).status, 404)
})

test('HTTP/1.0 needs no Host and is answered', async () => {
  const reply = await rawSocket(stack.url, 'GET /visits HTTP/1.0\r\n\r\n')
  assert.equal(reply.status, 200, JSON.stringify(reply))
})

test('Expect other than 100-continue: 417 {error, message}, and a write is not applied', async () => {
  const get = await rawSocket(stack.url, 'GET /visits HTTP/1.1\r\nHost: t\r\nExpect: foo\r\nConnection: close\r\n\r\n')
  isShapedError(get, 417, 'expectation_failed')
  const body = JSON.stringify({ key: 'expect', value: 1 })
  const post = await rawSocket(
    stack.url,
    `POST /cache HTTP/1.1\r\nHost: t\r\nExpect: foo\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
  )
  isShapedError(post, 417, 'expectation_failed')
  assert.equal((await call(stack.url, '/cache/expect')).status, 404)
})

test('Expect: 100-continue still works: 100, then the answer', async () => {
  const body = JSON.stringify({ key: 'continued', value: 2 })
  const reply = await rawSocket(
    stack.url,
    `POST /cache HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
  )
  assert.deepEqual(reply.interim, [100])
  assert.equal(reply.status, 201, JSON.stringify(reply))
  assert.equal((await call(stack.url, '/cache/continued')).body.value, 2)
})
