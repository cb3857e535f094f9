// The process around the app: start-up waiting, exit codes, the doctor, and graceful shutdown with
// requests in flight.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import pg from 'pg'
import { PgServer, RedisServer, freePort, serviceEnv, runScript, WEB } from '../helpers/index.js'

let pgServer: PgServer
let redisServer: RedisServer
before(async () => {
  ;[pgServer, redisServer] = await Promise.all([PgServer.start(), RedisServer.start()])
})
after(async () => {
  await Promise.all([pgServer.destroy(), redisServer.destroy()])
})

test('an invalid setting stops the service with one clear line naming it', async () => {
  const result = await runScript('src/server.ts', { PORT: 'abc' })
  assert.equal(result.code, 2)
  assert.equal(result.stderr.trim(), 'configuration error: PORT must be an integer, got "abc"')
})

test('the service waits for PostgreSQL with a log line per attempt, then gives up with exit 1', async () => {
  const port = await freePort()
  const result = await runScript('src/server.ts', {
    ...serviceEnv(pgServer, redisServer, {
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/postgres`,
      STARTUP_TIMEOUT_S: '2',
      LOG_LEVEL: 'info'
    })
  })
  assert.equal(result.code, 3)
  const waits = result.stdout.split('\n').filter((line) => line.includes('waiting for PostgreSQL'))
  assert.ok(waits.length >= 2, result.stdout)
  assert.match(result.stderr, /cannot start: PostgreSQL still unreachable after 2 s/)
})

test('npm run doctor: a table of resolve / tcp / protocol per service, and the likely fix on failure', async () => {
  const good = await runScript('src/cli/doctor.ts', { DATABASE_URL: pgServer.url, REDIS_URL: redisServer.url })
  assert.equal(good.code, 0, good.stdout + good.stderr)
  assert.match(good.stdout, /db\s+protocol\s+ok\s+select 1 -> 1/)
  assert.match(good.stdout, /cache\s+protocol\s+ok\s+PING -> PONG/)
  assert.match(good.stdout, /all checks passed/)

  const port = await freePort()
  const bad = await runScript('src/cli/doctor.ts', {
    DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    REDIS_URL: `redis://:wrong-password@127.0.0.1:${redisServer.port}/0`
  })
  assert.equal(bad.code, 1)
  assert.match(bad.stdout, /db\s+tcp\s+FAIL/)
  assert.match(bad.stdout, /cache\s+protocol\s+FAIL/)
  assert.match(bad.stdout, /Likely fix: .*REDIS_PASSWORD/)
  assert.doesNotMatch(bad.stdout, /wrong-password/)

  const unresolvable = await runScript('src/cli/doctor.ts', {
    PGHOST: 'no-such-host.invalid',
    REDIS_HOST: 'no-such-host.invalid'
  })
  assert.equal(unresolvable.code, 1)
  assert.match(unresolvable.stdout, /db\s+resolve\s+FAIL/)
})

async function startServer(
  env: Record<string, string>
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: WEB,
    env: {
      PATH: process.env.PATH ?? '',
      ...serviceEnv(pgServer, redisServer, { PORT: String(port), LOG_LEVEL: 'info', ...env })
    }
  })
  let text = ''
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    try {
      if ((await fetch(`${url}/livez`)).ok) break
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${text}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return { child, url, output: () => text }
}

test('SIGTERM: requests in flight complete, then the process exits 0 within 10 s', async () => {
  const { child, url, output } = await startServer({})
  const before = Number(
    (
      await pgServer.query<{ total: number }>("SELECT total::int AS total FROM visit_counter WHERE label = 'homepage'")
    )[0]?.total
  )
  // Hold PostgreSQL's counter row so visits are in flight when the signal arrives.
  const blocker = new pg.Client({ connectionString: pgServer.url })
  await blocker.connect()
  await blocker.query('BEGIN')
  await blocker.query("SELECT * FROM visit_counter WHERE label = 'homepage' FOR UPDATE")
  const inFlight = Array.from({ length: 20 }, () =>
    fetch(`${url}/`).then(async (r) => ({ status: r.status, body: (await r.json()) as { visits: number } }))
  )
  await new Promise((resolve) => setTimeout(resolve, 300))
  // Listen before signalling: under load the exit can come before the last response is read.
  const exited = once(child, 'exit')
  const signalled = Date.now()
  child.kill('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 300))
  await blocker.query('COMMIT')
  await blocker.end()
  const results = await Promise.all(inFlight)
  const [code] = (await exited) as [number | null]
  const elapsed = Date.now() - signalled
  assert.equal(code, 0, output())
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`)
  assert.deepEqual(
    results.map((r) => r.status),
    Array(20).fill(200)
  )
  const numbers = results.map((r) => r.body.visits).sort((a, b) => a - b)
  assert.deepEqual(
    numbers,
    Array.from({ length: 20 }, (_, i) => before + i + 1)
  )
  assert.match(output(), /stopped cleanly/)
  await assert.rejects(fetch(`${url}/livez`), 'new connections are refused')
})
