// Migrations: applied once under an advisory lock, all-or-nothing, and `npm run migrate`'s exit codes.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import pg from 'pg'
import { migrate } from '../../src/db/migrate.js'
import { MIGRATIONS_DIR } from '../../src/paths.js'
import { PgServer, RedisServer, freePort, runScript, testPool } from '../helpers/index.js'

const silent = pino({ level: 'silent' })
const MIGRATION_COUNT = readdirSync(MIGRATIONS_DIR).filter((name) => name.endsWith('.sql')).length

let pgServer: PgServer
let redisServer: RedisServer
before(async () => {
  ;[pgServer, redisServer] = await Promise.all([PgServer.start(), RedisServer.start()])
})
after(async () => {
  await Promise.all([pgServer.destroy(), redisServer.destroy()])
})

async function freshDatabase(name: string): Promise<string> {
  await pgServer.query(`CREATE DATABASE ${name}`)
  return pgServer.url.replace(/\/postgres$/, `/${name}`)
}

test('replicas starting together apply each migration exactly once (advisory lock)', async () => {
  const url = await freshDatabase('replicas')
  const pools = Array.from({ length: 4 }, () => testPool(url, 2))
  try {
    const applied = await Promise.all(pools.map((pool) => migrate(pool, silent)))
    assert.equal(applied.flat().length, MIGRATION_COUNT, `applied: ${JSON.stringify(applied)}`)
    const [{ n }] = await pgServer
      .query<{ n: number }>('SELECT count(*)::int AS n FROM pgmigrations', [])
      .catch(() => [{ n: -1 }])
    assert.equal(n, -1) // the default database was not touched
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const { rows } = await client.query<{ users: number; runs: number }>(
      'SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM pgmigrations) AS runs'
    )
    await client.end()
    assert.deepEqual(rows[0], { users: 10, runs: MIGRATION_COUNT })
  } finally {
    await Promise.all(pools.map((pool) => pool.end()))
  }
})

test('five migrators at once, one slow migration: each applied exactly once, none failing', async () => {
  const url = await freshDatabase('slow_replicas')
  const dir = mkdtempSync(join(tmpdir(), 'wdc-migrations-'))
  // Neither statement can run twice: without the lock, a second migrator would fail or double the row.
  writeFileSync(join(dir, '1_table.sql'), '-- Up Migration\nCREATE TABLE once (n int);\nSELECT pg_sleep(0.5);\n')
  writeFileSync(join(dir, '2_row.sql'), '-- Up Migration\nINSERT INTO once VALUES (1);\n')
  const pools = Array.from({ length: 5 }, () => testPool(url, 1))
  try {
    const results = await Promise.allSettled(pools.map((pool) => migrate(pool, silent, dir)))
    assert.deepEqual(
      results.map((r) => r.status),
      Array(5).fill('fulfilled')
    )
    const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []))
    assert.deepEqual(applied.sort(), ['1_table', '2_row'])
    const { rows } = await pools[0]!.query<{ n: number; runs: number }>(
      'SELECT (SELECT count(*)::int FROM once) AS n, (SELECT count(*)::int FROM pgmigrations) AS runs'
    )
    assert.deepEqual(rows[0], { n: 1, runs: 2 })
  } finally {
    await Promise.all(pools.map((pool) => pool.end()))
    rmSync(dir, { recursive: true, force: true })
  }
})

test('npm run migrate in four processes at once on an empty database: all exit 0, each migration once', async () => {
  const url = await freshDatabase('processes')
  const runs = await Promise.all(
    Array.from({ length: 4 }, () => runScript('src/cli/migrate.ts', { DATABASE_URL: url, LOG_LEVEL: 'silent' }, 60_000))
  )
  assert.deepEqual(
    runs.map((r) => r.code),
    [0, 0, 0, 0],
    runs.map((r) => r.stderr).join('\n')
  )
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const { rows } = await client.query<{ name: string; n: number }>(
    'SELECT name, count(*)::int AS n FROM pgmigrations GROUP BY name ORDER BY name'
  )
  await client.end()
  assert.deepEqual(
    rows.map((r) => r.n),
    Array<number>(MIGRATION_COUNT).fill(1)
  )
})

test('a failing migration rolls back and reports the failure', async () => {
  const url = await freshDatabase('broken')
  const dir = mkdtempSync(join(tmpdir(), 'wdc-migrations-'))
  writeFileSync(join(dir, '1_ok.sql'), '-- Up Migration\nCREATE TABLE fine (id int);\n')
  writeFileSync(join(dir, '2_broken.sql'), '-- Up Migration\nCREATE TABLE nope (id int;\n')
  const pool = testPool(url)
  try {
    await assert.rejects(migrate(pool, silent, dir))
    const { rows } = await pool.query<{ t: string | null }>("SELECT to_regclass('fine')::text AS t")
    assert.equal(rows[0]?.t, null, 'the whole run is one transaction')
  } finally {
    await pool.end()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('npm run migrate: exit 0 when up to date, non-zero when the database is unreachable', async () => {
  const ok = await runScript('src/cli/migrate.ts', { DATABASE_URL: pgServer.url, LOG_LEVEL: 'silent' })
  assert.equal(ok.code, 0, ok.stderr)
  const port = await freePort()
  const down = await runScript('src/cli/migrate.ts', {
    DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    STARTUP_TIMEOUT_S: '1',
    LOG_LEVEL: 'silent'
  })
  assert.equal(down.code, 1)
  assert.match(down.stderr, /migration failed: PostgreSQL still unreachable after 1 s/)
})
