// The seeds' counter loses visits when requests race (read, add one, write back). Ours may not.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { call, startStack, visitCounts, type TestStack } from '../helpers/index.js'

let stack: TestStack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())

const VISITS = 2000

test(`${VISITS} concurrent visits: each gets a distinct number, and the database holds exactly that many`, async () => {
  const { total: before } = await visitCounts(stack.pg)
  const responses = await Promise.all(Array.from({ length: VISITS }, () => call(stack.url, '/')))
  const ok = responses.filter((r) => r.status === 200)
  assert.equal(ok.length, VISITS, `statuses: ${[...new Set(responses.map((r) => r.status))].join(',')}`)

  const numbers = ok.map((r) => Number(r.body.visits)).sort((a, b) => a - b)
  assert.deepEqual(
    numbers,
    Array.from({ length: VISITS }, (_, i) => Number(before) + i + 1),
    'numbers are exactly before+1 .. before+N'
  )

  const { total, logged } = await visitCounts(stack.pg)
  assert.equal(total, Number(before) + VISITS)
  assert.equal(logged, total)

  // After the load, the cached total is the database total (a racing writer left nothing older behind).
  const cached = await stack.redis.command((r) => r.get('visit_counter:homepage'))
  assert.ok(cached === null || Number(cached) === total, `cached ${cached}, database ${total}`)
  const batches = String((await call(stack.url, '/metrics')).body).match(/^visit_batch_size_count (\d+)/m)?.[1]
  console.log(
    `visits: ${VISITS} sent, ${ok.length} ok, counter ${before} -> ${total}, committed in ${batches} transactions`
  )
})
