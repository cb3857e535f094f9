// Process-wide load shedding and the limits read from the environment.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { call, startStack, type TestStack } from '../helpers/index.js'
import { ConfigError, loadConfig } from '../../src/config.js'

let stack: TestStack
before(async () => {
  // Any process is above 1 MiB of resident memory: every request meets the threshold.
  stack = await startStack({ MAX_RSS_MB: '1' })
  await sleep(1500) // the first memory sample is taken a second after start
})
after(async () => {
  await stack?.close()
})

test('over a threshold: 503 with Retry-After in the usual error shape; /livez still answers', async () => {
  // /health and /readyz have their own 503 shape: shedding must not turn them into a 500.
  for (const path of ['/', '/users?limit=5', '/visits', '/health', '/readyz']) {
    const res = await call(stack.url, path)
    assert.equal(res.status, 503, path)
    assert.equal(res.headers.get('retry-after'), '5')
    assert.equal(res.body.error, 'overloaded')
    assert.match(String(res.body.message), /overloaded \(rssBytes\); retry in 5 s/)
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', 'security headers as on every response')
  }
  assert.equal((await call(stack.url, '/livez')).status, 200, 'a process that sheds load is still alive')
})

test('limits have defaults and are checked, with a message naming the variable', () => {
  const config = loadConfig({})
  assert.equal(config.maxInFlightPerConnection, 4)
  assert.equal(config.requestTimeoutMs, 30_000)
  assert.deepEqual(config.pressure, { maxEventLoopDelayMs: 1000, maxHeapUsedMb: 256, maxRssMb: 320 })
  const cases: Array<[string, string, RegExp]> = [
    ['MAX_IN_FLIGHT_PER_CONNECTION', '0', /MAX_IN_FLIGHT_PER_CONNECTION must be between 1 and 100, got 0/],
    ['REQUEST_TIMEOUT_MS', '10', /REQUEST_TIMEOUT_MS must be between 1000 and 600000, got 10/],
    ['MAX_EVENT_LOOP_DELAY_MS', 'soon', /MAX_EVENT_LOOP_DELAY_MS must be an integer, got "soon"/],
    ['MAX_RSS_MB', '-1', /MAX_RSS_MB must be between 0 and 65536, got -1/],
    ['MAX_HEAP_USED_MB', '1.5', /MAX_HEAP_USED_MB must be an integer/]
  ]
  for (const [name, value, message] of cases) {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (err) => err instanceof ConfigError && message.test(err.message)
    )
  }
})
