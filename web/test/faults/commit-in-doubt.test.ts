// A visit's connection to PostgreSQL breaks after the batch was sent and before the answer came
// back: the commit is in doubt. The service reads the batch's receipt once PostgreSQL answers, so
// a visit that committed gets its 200 and one that did not gets a 503, and a server session still
// running the batch is ended first so it cannot commit later. A proxy in front of PostgreSQL breaks
// the connection at each of those moments.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { call, startStack, visitCounts, type TestStack } from '../helpers/index.js'
import { CuttingProxy } from '../helpers/cutting-proxy.js'
import { RECORD_VISITS_STATEMENT } from '../../src/db/repositories/visits.js'

// The batch's prepared statement, by name: it is in the message that runs each batch, and in no
// other statement (the receipt lookup and the pruning).
const BATCH = RECORD_VISITS_STATEMENT

let stack: TestStack
let proxy: CuttingProxy
before(async () => {
  stack = await startStack(
    { VISIT_IN_DOUBT_WAIT_MS: '1500' },
    {
      databaseUrl: async (server) => {
        proxy = await CuttingProxy.start(server.port)
        return server.url.replace(`:${server.port}/`, `:${proxy.port}/`)
      }
    }
  )
  assert.equal((await call(stack.url, '/')).status, 200)
})
after(async () => {
  await stack.close()
  await proxy.close()
})

const inDoubt = async (outcome: string) => {
  const text = String((await call(stack.url, '/metrics')).body)
  return Number(text.match(new RegExp(`^visit_commits_in_doubt_total\\{outcome="${outcome}"\\} (\\d+)`, 'm'))?.[1] ?? 0)
}

test('the answer to a committed batch is lost: the visit is answered 200 from its receipt, counted once', async () => {
  const before = await visitCounts(stack.pg)
  proxy.arm(BATCH, 'cut-reply')
  const visit = await call(stack.url, '/')
  assert.equal(proxy.cuts, 1, 'the connection was cut')
  assert.equal(visit.status, 200, JSON.stringify(visit.body))
  assert.equal(visit.body.visits, before.total + 1)
  assert.deepEqual(await visitCounts(stack.pg), { total: before.total + 1, logged: before.logged + 1 })
  assert.equal(await inDoubt('committed'), 1)
  // The next visit goes on from there.
  assert.equal((await call(stack.url, '/')).body.visits, before.total + 2)
})

test('the batch never reached PostgreSQL: 503 "not applied", nothing counted', async () => {
  const before = await visitCounts(stack.pg)
  proxy.arm(BATCH, 'drop')
  const visit = await call(stack.url, '/')
  assert.equal(visit.status, 503)
  assert.equal(visit.body.error, 'db_unavailable')
  assert.match(String(visit.body.message), /not applied/)
  assert.deepEqual(await visitCounts(stack.pg), before)
  assert.equal(await inDoubt('rolled back'), 1)
})

test('the server session outlives its client: it is ended before the receipt is read, so it cannot commit later', async () => {
  // Hold the counter row, so the batch waits for the lock inside PostgreSQL after its client is gone.
  const holder = new pg.Client({ connectionString: stack.pg.url })
  await holder.connect()
  try {
    const before = await visitCounts(stack.pg)
    await holder.query('BEGIN')
    await holder.query("SELECT total FROM visit_counter WHERE label = 'homepage' FOR UPDATE")
    proxy.arm(BATCH, 'cut-client')
    const visit = await call(stack.url, '/')
    assert.equal(visit.status, 503, JSON.stringify(visit.body))
    assert.equal(visit.body.error, 'db_unavailable')
    await holder.query('COMMIT')
    // Had the session lived on, it would now take the lock and commit a visit that got a 503.
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(await visitCounts(stack.pg), before)
    const [{ waiting }] = await stack.pg.query<{ waiting: number }>(
      "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE query LIKE '%INSERT INTO visit_receipts%' AND pid <> pg_backend_pid()"
    )
    assert.equal(waiting, 0, 'no session is left running the batch')
  } finally {
    await holder.end()
  }
})

test('PostgreSQL does not come back in time: 503 says the outcome is unknown and what to check', async () => {
  const before = await visitCounts(stack.pg)
  proxy.arm(BATCH, 'cut-reply')
  proxy.refuse = true
  const started = performance.now()
  const visit = await call(stack.url, '/')
  const ms = performance.now() - started
  proxy.refuse = false
  assert.equal(visit.status, 503)
  assert.equal(visit.body.error, 'db_outcome_unknown')
  assert.match(String(visit.body.message), /whether it was counted is unknown.*GET \/visits/)
  assert.ok(ms >= 1500 && ms < 6000, `waited for VISIT_IN_DOUBT_WAIT_MS, then answered (${Math.round(ms)} ms)`)
  // It had committed: that is why "not applied" would have been wrong.
  assert.equal((await visitCounts(stack.pg)).total, before.total + 1)
  assert.equal(await inDoubt('unknown'), 1)
})
