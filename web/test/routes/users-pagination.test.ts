// GET /users on a large table: a page costs O(page) rows on a cache miss, first or deep, and the
// total is exact without counting the table. Work is measured by EXPLAIN's row and buffer counts,
// not by time; the times are printed for the record only.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { call, startStack, testPool, type Json, type TestStack } from '../helpers/index.js'
import { PAGE_SQL } from '../../src/db/repositories/users.js'
import { encodeCursor } from '../../src/services/user-cursor.js'
import { MAX_OFFSET } from '../../src/schemas/users.js'

const BULK = 200_000
const LIMIT = 20

let stack: TestStack
let url: string
before(async () => {
  stack = await startStack()
  url = stack.url
  await stack.pg.query(
    `INSERT INTO users (username, email) SELECT 'bulk.' || g, 'bulk.' || g || '@example.com' FROM generate_series(1, $1) g`,
    [BULK]
  )
  await stack.pg.query('VACUUM ANALYZE users')
})
after(() => stack.close())

interface PlanNode {
  'Node Type': string
  'Actual Rows': number
  'Actual Loops': number
  'Shared Hit Blocks': number
  'Shared Read Blocks': number
  Plans?: PlanNode[]
}

/** Rows produced by every node of the plan (what the executor touched) and the blocks it read. */
async function explain(sql: string, params: unknown[]): Promise<{ rows: number; blocks: number; ms: number }> {
  const [row] = await stack.pg.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`,
    params
  )
  const [top] = row!['QUERY PLAN']
  let rows = 0
  const walk = (node: PlanNode): void => {
    rows += node['Actual Rows'] * node['Actual Loops']
    for (const child of node.Plans ?? []) walk(child)
  }
  walk(top!.Plan)
  return { rows, blocks: top!.Plan['Shared Hit Blocks'] + top!.Plan['Shared Read Blocks'], ms: top!['Execution Time'] }
}

async function timedPage(path: string): Promise<{ body: Json; ms: number }> {
  const started = performance.now()
  const { status, body } = await call(url, path)
  const ms = performance.now() - started
  assert.equal(status, 200, JSON.stringify(body))
  assert.equal(body.cached, false, `${path} should be a cache miss`)
  return { body, ms }
}

test(`with ${BULK + 10} users, the first and a deep keyset page each touch O(limit) rows`, async () => {
  const total = BULK + 10
  const [{ max }] = await stack.pg.query<{ max: number }>('SELECT max(id)::int AS max FROM users')
  // The app's first request opens its pool's connections; that is not a page's cost.
  assert.equal((await call(url, '/users/1')).status, 200)
  const cases = [
    { name: 'first page', after: 0, offset: 0 },
    { name: 'deep keyset page', after: max - 1000, offset: 0 }
  ]
  for (const { name, after: afterId, offset } of cases) {
    const plan = await explain(PAGE_SQL, [LIMIT + 1, afterId, offset])
    const path = afterId === 0 ? `/users?limit=${LIMIT}` : `/users?limit=${LIMIT}&cursor=${encodeCursor(afterId)}`
    const { body, ms } = await timedPage(path)
    console.log(
      `${name}: EXPLAIN ${plan.rows} rows, ${plan.blocks} buffers, ${plan.ms.toFixed(2)} ms in PostgreSQL; ` +
        `cold GET ${path} ${ms.toFixed(1)} ms (target < 20 ms)`
    )
    // A page, the row one past it, the count row and the join's own output: a few times the limit.
    assert.ok(plan.rows <= 4 * (LIMIT + 1) + 4, `${name}: ${plan.rows} rows touched`)
    assert.ok(plan.blocks <= 30, `${name}: ${plan.blocks} buffers`)
    assert.equal(body.total, total)
    assert.equal(body.users.length, LIMIT)
    assert.equal(Number(body.users[0]?.id), afterId === 0 ? 1 : afterId + 1)
    assert.equal(typeof body.next_cursor, 'string')
  }

  // The deepest offset allowed is bounded: O(offset), never O(table).
  const deepOffset = await explain(PAGE_SQL, [LIMIT + 1, 0, MAX_OFFSET])
  console.log(`offset ${MAX_OFFSET}: EXPLAIN ${deepOffset.rows} rows, ${deepOffset.ms.toFixed(2)} ms in PostgreSQL`)
  assert.ok(deepOffset.rows <= 3 * (MAX_OFFSET + LIMIT + 1) + 4, `offset page: ${deepOffset.rows} rows touched`)

  // What the page cost when the total was a window count over the table, for comparison.
  const windowCount = await explain(
    'SELECT id, username, email, created_at, updated_at, count(*) OVER ()::int AS total FROM users ORDER BY id LIMIT $1 OFFSET $2',
    [LIMIT, 0]
  )
  console.log(`window count (before): EXPLAIN ${windowCount.rows} rows, ${windowCount.ms.toFixed(2)} ms in PostgreSQL`)
  assert.ok(windowCount.rows >= total, 'the comparison query should scan the table')
})

test('following next_cursor walks the table in id order with no gap and no repeat', async () => {
  const seen: number[] = []
  let path = `/users?limit=100`
  for (let page = 0; page < 3; page++) {
    const { body } = await call(url, path)
    seen.push(...body.users.map((u) => Number(u.id)))
    path = `/users?limit=100&cursor=${String(body.next_cursor)}`
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 300 }, (_, i) => i + 1)
  )
  const [{ max }] = await stack.pg.query<{ max: number }>('SELECT max(id)::int AS max FROM users')
  const last = await call(url, `/users?limit=100&cursor=${encodeCursor(max - 5)}`)
  assert.equal(last.body.users.length, 5)
  assert.equal(last.body.next_cursor, null)
  const past = await call(url, `/users?cursor=${encodeCursor(max)}`)
  assert.equal(past.status, 200)
  assert.equal(past.body.users.length, 0)
  assert.equal(past.body.total, BULK + 10)
})

test('cursor and offset are checked: foreign cursors, both at once and offsets past the bound are 400', async () => {
  for (const query of [
    'cursor=abc',
    'cursor=MA',
    `cursor=${encodeCursor(1)}=`,
    'cursor=' + 'A'.repeat(40),
    `cursor=${encodeCursor(5)}&offset=5`,
    `offset=${MAX_OFFSET + 1}`
  ]) {
    const { status, body } = await call(url, `/users?${query}`)
    assert.equal(status, 400, query)
    assert.equal(body.error, 'bad_request', query)
    assert.equal(typeof body.message, 'string')
  }
  assert.equal((await call(url, `/users?offset=${MAX_OFFSET}`)).status, 200)
})

test('the total stays exact under concurrent inserts and deletes', async () => {
  const pool = testPool(stack.pg.url, 8)
  try {
    const writes = Array.from({ length: 40 }, (_, i) =>
      i % 4 === 3
        ? pool.query('DELETE FROM users WHERE id = $1', [1000 + i])
        : pool.query('INSERT INTO users (username, email) VALUES ($1, $2)', [`conc.${i}`, `conc.${i}@example.com`])
    )
    await Promise.all(writes)
  } finally {
    await pool.end()
  }
  const [counts] = await stack.pg.query<{ kept: number; counted: number }>(
    "SELECT (SELECT total::int FROM row_counts WHERE table_name = 'users') AS kept, (SELECT count(*)::int FROM users) AS counted"
  )
  assert.equal(counts!.kept, counts!.counted)
  assert.equal(counts!.counted, BULK + 10 + 30 - 10)
  const { body } = await call(url, '/users?limit=1&offset=1')
  assert.equal(body.total, counts!.counted)
})
