// Pipelined requests on one connection: a write is a barrier, so what follows it sees its effect.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { startStack, type TestStack } from '../helpers/index.js'

let stack: TestStack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())

/** Writes every request at once on one socket and returns the raw responses once `count` have arrived. */
function pipeline(requests: string[], count: number): Promise<string> {
  const { hostname, port } = new URL(stack.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let text = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`only ${text.split('HTTP/1.1 ').length - 1} of ${count} responses:\n${text.slice(-500)}`))
    }, 15_000)
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      if (text.split('HTTP/1.1 ').length - 1 >= count) {
        clearTimeout(timer)
        socket.destroy()
        resolve(text)
      }
    })
    socket.on('error', reject)
    socket.write(requests.join(''))
  })
}

const post = (key: string, value: string): string => {
  const body = JSON.stringify({ key, value })
  return `POST /cache HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
}
const get = (key: string): string => `GET /cache/${key} HTTP/1.1\r\nHost: t\r\n\r\n`

test('GET right after POST on the same connection reads the value just written (50 pairs)', async () => {
  const requests: string[] = []
  for (let i = 0; i < 50; i++) requests.push(post(`pipe-${i}`, `v${i}`), get(`pipe-${i}`))
  const text = await pipeline(requests, 100)
  const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
  assert.equal(statuses.length, 100)
  const notFound = statuses.filter((s) => s === 404).length
  assert.equal(notFound, 0, `${notFound} GETs did not see the POST before them`)
  for (let i = 0; i < 50; i++) assert.match(text, new RegExp(`"value":"v${i}"`))
})

test('reads still run side by side: 20 pipelined GETs are all answered, in order', async () => {
  const requests = Array.from({ length: 20 }, (_, i) => `GET /visits?i=${i} HTTP/1.1\r\nHost: t\r\n\r\n`)
  const text = await pipeline(requests, 20)
  const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
  assert.deepEqual(statuses, Array(20).fill(200))
})
