// With Redis frozen (SIGSTOP: the connection stays open, nothing comes back), a call fails one
// command timeout after it was made, even when it is queued behind an auto-pipeline that is itself
// waiting for its timeout. Before the per-call deadline, such a call waited two timeouts.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { call, startStack, type TestStack } from '../helpers/index.js'

const TIMEOUT_MS = 1000 // DEPENDENCY_TIMEOUT_MS; Redis commands time out after min(it, 1 s)

let stack: TestStack
before(async () => {
  stack = await startStack({ DEPENDENCY_TIMEOUT_MS: String(TIMEOUT_MS) })
})
after(async () => {
  stack.redis.resume()
  await stack.close()
})

async function timed(path: string): Promise<{ path: string; status: number; ms: number }> {
  const started = performance.now()
  const { status } = await call(stack.url, path)
  return { path, status, ms: Math.round(performance.now() - started) }
}

test('Redis frozen: a visit and GET /cache/:key answer within 1.5 command timeouts', async () => {
  const stored = await call(stack.url, '/cache', { method: 'POST', json: { key: 'frozen', value: 1 } })
  assert.equal(stored.status, 201)
  stack.redis.pause()
  // The first request's commands go out as an auto-pipeline that will get no answer; the next
  // ones are made while it waits, so theirs queue behind it.
  const first = timed('/cache/frozen')
  await sleep(200)
  const [visit, read] = await Promise.all([timed('/'), timed('/cache/frozen')])
  const ahead = await first
  stack.redis.resume()
  console.log(
    `frozen Redis, command timeout ${TIMEOUT_MS} ms: first call ${ahead.ms} ms; queued behind it: ` +
      `visit ${visit.ms} ms, GET /cache/:key ${read.ms} ms (bound ${1.5 * TIMEOUT_MS} ms)`
  )
  assert.equal(ahead.status, 503)
  assert.equal(visit.status, 200, 'the visit is counted in PostgreSQL')
  assert.equal(read.status, 503)
  for (const check of [ahead, visit, read]) {
    assert.ok(check.ms < 1.5 * TIMEOUT_MS, `${check.path} took ${check.ms} ms with Redis frozen`)
  }
  // Redis answers again: the client was not left stuck.
  await sleep(100)
  assert.equal((await call(stack.url, '/cache/frozen')).status, 200)
})
