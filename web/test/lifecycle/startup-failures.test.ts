// How `npm start` fails: one line that says what to do, an exit code per kind, no stack trace;
// refusals (unknown role, bad password) fail at once; killing npm stops the server it started.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  PgServer,
  RedisServer,
  WEB,
  eventually,
  freePort,
  runScript,
  serviceEnv,
  spawnService,
  type ScriptRun
} from '../helpers/index.js'
import { EXIT_CODES } from '../../src/process/startup-failures.js'

let pgServer: PgServer
let redisServer: RedisServer
before(async () => {
  ;[pgServer, redisServer] = await Promise.all([PgServer.start(), RedisServer.start()])
})
after(async () => {
  await Promise.all([pgServer.destroy(), redisServer.destroy()])
})

/** Starts the server as `npm start` would and waits for it to stop; `ms` is how long that took. */
async function start(env: Record<string, string>): Promise<ScriptRun & { ms: number }> {
  const startedAt = Date.now()
  const run = await runScript('src/server.ts', serviceEnv(pgServer, redisServer, { LOG_LEVEL: 'info', ...env }))
  return { ...run, ms: Date.now() - startedAt }
}

function assertOneLine(stderr: string): void {
  const lines = stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`)
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace')
}

test('a port already in use: one line saying what to do, exit code 5', async () => {
  const blocker = createServer()
  const port = await freePort()
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
  try {
    const result = await start({ PORT: String(port) })
    assert.equal(result.code, EXIT_CODES.cannotListen, result.stderr)
    assertOneLine(result.stderr)
    assert.equal(
      result.stderr.trim(),
      `cannot start: 127.0.0.1:${port} is already in use; stop the process using it or set PORT to a free port`
    )
  } finally {
    blocker.close()
  }
})

test('an unknown PostgreSQL role fails at once (no retrying), naming the cause, exit code 4', async () => {
  const url = pgServer.url.replace('postgres@', 'no_such_role@')
  const result = await start({ DATABASE_URL: url, STARTUP_TIMEOUT_S: '60' })
  assert.equal(result.code, EXIT_CODES.dependencyRefused, result.stderr + result.stdout)
  assert.ok(result.ms < 10_000, `gave up after ${result.ms} ms, not after the 60 s start-up timeout`)
  assertOneLine(result.stderr)
  assert.match(result.stderr, /^cannot start: PostgreSQL refused us: 28000: role "no_such_role" does not exist/)
  assert.doesNotMatch(result.stdout, /waiting for PostgreSQL/)
})

test('PostgreSQL unreachable: it is waited for, then one line and exit code 3', async () => {
  const port = await freePort()
  const result = await start({
    DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    STARTUP_TIMEOUT_S: '1'
  })
  assert.equal(result.code, EXIT_CODES.dependencyUnreachable)
  assertOneLine(result.stderr)
  assert.match(result.stderr, /^cannot start: PostgreSQL still unreachable after 1 s \(connect ECONNREFUSED/)
})

test('Redis unreachable at start: the log gives the connection error, not ioredis internals', async () => {
  const port = await freePort()
  const live = await spawnService(
    serviceEnv(pgServer, redisServer, {
      REDIS_URL: `redis://127.0.0.1:${port}/0`,
      STARTUP_TIMEOUT_S: '1',
      LOG_LEVEL: 'info'
    })
  )
  try {
    const waits = live
      .output()
      .split('\n')
      .filter((line) => line.includes('waiting for Redis'))
    assert.ok(waits.length > 0, live.output())
    for (const line of waits) assert.match(line, /ECONNREFUSED/)
    assert.doesNotMatch(live.output(), /Stream isn't writeable/)
  } finally {
    await live.destroy()
  }
})

/** Every process below `pid`, from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = []
  const walk = (parent: number) => {
    for (const [child, of] of parents) {
      if (of !== parent) continue
      found.push(child)
      walk(child)
    }
  }
  walk(pid)
  return found
}

test('npm start, then SIGTERM to npm: the server stops too and frees its port', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wdc-npm-start-'))
  const tsx = import.meta.resolve('tsx')
  const script = `node --import ${tsx} ${join(WEB, 'src/server.ts')}`
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'npm-start', private: true, scripts: { start: script } })
  )
  const port = await freePort()
  const env = serviceEnv(pgServer, redisServer, { PORT: String(port) })
  const npm = spawn('npm', ['start'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    stdio: 'ignore'
  })
  let below: number[] = []
  try {
    await eventually('the server answers', async () => (await fetch(`http://127.0.0.1:${port}/livez`)).ok, 30_000)
    below = descendants(npm.pid as number)
    npm.kill('SIGTERM')
    await eventually(
      'the port is free',
      () =>
        fetch(`http://127.0.0.1:${port}/livez`, { signal: AbortSignal.timeout(500) }).then(
          () => false,
          () => true
        ),
      10_000
    ).catch(() => assert.fail('the server still answers 10 s after npm got SIGTERM'))
  } finally {
    for (const pid of below) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone, as it should be
      }
    }
    await sleep(100)
    rmSync(dir, { recursive: true, force: true })
  }
})
