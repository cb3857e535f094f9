// The visit log keeps VISITS_RETENTION_DAYS days; the total (visit_counter) never changes.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { pino } from 'pino'
import { call, startStack, testPool, type TestStack } from '../helpers/index.js'
import { VisitRepository } from '../../src/db/repositories/visits.js'
import { VisitRetention } from '../../src/services/visit-retention.js'

let stack: TestStack
let pool: pg.Pool
before(async () => {
  stack = await startStack()
  pool = testPool(stack.pg.url, 2)
})
after(async () => {
  await pool.end()
  await stack.close()
})

const counts = async () => {
  const { rows } = await pool.query<{ logged: number; total: number }>(
    `SELECT (SELECT count(*)::int FROM visits) AS logged,
            (SELECT total::int FROM visit_counter WHERE label = 'homepage') AS total`
  )
  return rows[0]!
}

test('rows older than the retention are deleted; the total and newer rows stay', async () => {
  for (let i = 0; i < 20; i++) assert.equal((await call(stack.url, '/')).status, 200)
  const before = await counts()
  await pool.query(
    "UPDATE visits SET visited_at = now() - interval '40 days' WHERE id IN (SELECT id FROM visits ORDER BY id LIMIT 12)"
  )
  const retention = new VisitRetention(new VisitRepository(pool), 30, pino({ level: 'silent' }))
  assert.equal(await retention.prune(), 12)
  const afterPrune = await counts()
  assert.equal(afterPrune.logged, before.logged - 12)
  assert.equal(afterPrune.total, before.total, 'the total does not change')
  assert.equal((await call(stack.url, '/visits')).body.total, before.total)
  assert.equal(await retention.prune(), 0, 'nothing left to prune')
})

test('retention 0 keeps every row', async () => {
  await pool.query("UPDATE visits SET visited_at = now() - interval '4000 days'")
  const before = await counts()
  const retention = new VisitRetention(new VisitRepository(pool), 0, pino({ level: 'silent' }))
  retention.start(1000)
  await new Promise((resolve) => setTimeout(resolve, 100))
  await retention.stop()
  assert.deepEqual(await counts(), before)
})

test("receipts of committed batches are kept a few minutes, whatever the log's retention", async () => {
  for (let i = 0; i < 5; i++) assert.equal((await call(stack.url, '/')).status, 200)
  const receipts = async () =>
    (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM visit_receipts')).rows[0]!.n
  const before = await receipts()
  assert.ok(before >= 5, `one receipt per committed batch (${before})`)
  await pool.query(
    "UPDATE visit_receipts SET recorded_at = now() - interval '10 minutes' WHERE id IN (SELECT id FROM visit_receipts LIMIT 3)"
  )
  await new VisitRetention(new VisitRepository(pool), 0, pino({ level: 'silent' })).prune()
  assert.equal(await receipts(), before - 3, 'only the old receipts went')
})

test('started, it prunes receipts at every run and the log once an hour', async () => {
  for (let i = 0; i < 6; i++) assert.equal((await call(stack.url, '/')).status, 200)
  const age = (table: string, column: string, ago: string) =>
    pool.query(
      `UPDATE ${table} SET ${column} = now() - interval '${ago}' WHERE id IN (SELECT id FROM ${table} LIMIT 2)`
    )
  const count = async (table: string) =>
    (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n
  await pool.query('UPDATE visits SET visited_at = now()') // an earlier test aged every row
  await age('visits', 'visited_at', '40 days')
  const logged = await count('visits')
  const retention = new VisitRetention(new VisitRepository(pool), 30, pino({ level: 'silent' }))
  retention.start(50)
  try {
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(await count('visits'), logged - 2, 'the first run prunes the log')
    await age('visits', 'visited_at', '40 days')
    const receipts = await count('visit_receipts')
    await age('visit_receipts', 'recorded_at', '10 minutes')
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(await count('visit_receipts'), receipts - 2, 'later runs prune receipts')
    assert.equal(await count('visits'), logged - 2, 'but not the log, within the hour')
  } finally {
    await retention.stop()
  }
})
