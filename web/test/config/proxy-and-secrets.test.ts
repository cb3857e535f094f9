// Behind the proxy: the client's address comes from X-Forwarded-For only when the peer is trusted
// (TRUST_PROXY), and passwords can come from files (Docker secrets).
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../src/config.js'
import { pino } from 'pino'
import { createRedis } from '../../src/cache/redis.js'
import { RedisServer, call, freePort, startStack, type TestStack } from '../helpers/index.js'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'

const post = (stack: TestStack, forwardedFor: string, key: string) =>
  call(stack.url, '/cache', { method: 'POST', json: { key, value: 1 }, headers: { 'x-forwarded-for': forwardedFor } })

describe('TRUST_PROXY: X-Forwarded-For counts only from a trusted peer', () => {
  let trusting: TestStack
  let untrusting: TestStack
  let elsewhere: TestStack
  before(async () => {
    ;[trusting, untrusting, elsewhere] = await Promise.all([
      startStack({ RATE_LIMIT_MAX: '1', TRUST_PROXY: '127.0.0.1' }),
      startStack({ RATE_LIMIT_MAX: '1' }),
      startStack({ RATE_LIMIT_MAX: '1', TRUST_PROXY: '10.0.0.0/8,uniquelocal' })
    ])
  })
  after(() => Promise.all([trusting.close(), untrusting.close(), elsewhere.close()]))

  test('from the trusted proxy, each forwarded client has its own rate limit', async () => {
    assert.equal((await post(trusting, '203.0.113.1', 'a')).status, 201)
    assert.equal((await post(trusting, '203.0.113.2', 'b')).status, 201)
    // A client that forges the header in front of the proxy: the proxy appends the real address,
    // and that is the one used.
    assert.equal((await post(trusting, '198.51.100.9, 203.0.113.3', 'c')).status, 201)
    assert.equal((await post(trusting, '203.0.113.1', 'd')).status, 429, 'same client, second write')
  })

  test('by default no peer is trusted: a forged X-Forwarded-For is ignored', async () => {
    assert.equal((await post(untrusting, '203.0.113.1', 'a')).status, 201)
    assert.equal((await post(untrusting, '203.0.113.2', 'b')).status, 429)
  })

  test('a peer outside TRUST_PROXY cannot choose its address', async () => {
    assert.equal((await post(elsewhere, '203.0.113.1', 'a')).status, 201)
    assert.equal((await post(elsewhere, '203.0.113.2', 'b')).status, 429)
  })

  test('bad TRUST_PROXY values are refused with a clear message', () => {
    for (const bad of ['true', 'proxy.local', '10.0.0.0/33', '1.2.3.4/8/1']) {
      assert.throws(
        () => loadConfig({ TRUST_PROXY: bad }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError)
          assert.match(err.message, /^TRUST_PROXY must list addresses/)
          return true
        }
      )
    }
    assert.deepEqual(loadConfig({ TRUST_PROXY: ' loopback, 172.16.0.0/12 ,::1 ' }).trustProxy, [
      'loopback',
      '172.16.0.0/12',
      '::1'
    ])
    assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false)
  })
})

describe('passwords from files (PGPASSWORD_FILE, REDIS_PASSWORD_FILE)', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wdc-secrets-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  const secret = (name: string, text: string): string => {
    const path = join(dir, name)
    writeFileSync(path, text, { mode: 0o600 })
    return path
  }

  test('read once at start, one trailing newline dropped', () => {
    const config = loadConfig({
      PGPASSWORD_FILE: secret('pg', 's3cret pg\n'),
      REDIS_PASSWORD_FILE: secret('redis', 'r3dis\r\n')
    })
    assert.equal(config.database.password, 's3cret pg')
    assert.equal(config.redis.password, 'r3dis')
    const url = loadConfig({
      DATABASE_URL: 'postgresql://app@db/app',
      PGPASSWORD_FILE: secret('pg2', 'from-file\n\n'),
      REDIS_URL: 'redis://cache:6379/0',
      REDIS_PASSWORD_FILE: secret('redis2', 'r')
    })
    assert.equal(url.database.password, 'from-file\n', 'only one newline is trimmed')
    assert.equal(url.redis.password, 'r')
  })

  test('unreadable, empty or doubly given: a clear error without the value', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PGPASSWORD_FILE: join(dir, 'missing') }, /^PGPASSWORD_FILE: cannot read .*missing \(ENOENT\)$/],
      [{ REDIS_PASSWORD_FILE: dir }, /^REDIS_PASSWORD_FILE: cannot read .* \(EISDIR\)$/],
      [{ PGPASSWORD_FILE: secret('empty', '\n') }, /^PGPASSWORD_FILE: .* is empty$/],
      [{ PGPASSWORD: 'x', PGPASSWORD_FILE: secret('both', 'hidden-value') }, /^PGPASSWORD and PGPASSWORD_FILE/],
      [{ REDIS_PASSWORD: 'x', REDIS_PASSWORD_FILE: secret('both2', 'hidden-value') }, /use one of them$/],
      [
        { DATABASE_URL: 'postgresql://app:pw@db/app', PGPASSWORD_FILE: secret('both3', 'hidden-value') },
        /^DATABASE_URL has a password and PGPASSWORD_FILE is set/
      ]
    ]
    for (const [env, message] of cases) {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, JSON.stringify(env))
          assert.match(err.message, message)
          assert.doesNotMatch(err.message, /hidden-value/)
          return true
        }
      )
    }
  })

  test('the service authenticates to Redis with the password read from its file', async () => {
    const redisServer = await RedisServer.start()
    const silent = pino({ level: 'silent' })
    const connect = async (text: string): Promise<string> => {
      const config = loadConfig({
        REDIS_URL: `redis://127.0.0.1:${redisServer.port}/0`,
        REDIS_PASSWORD_FILE: secret('redis-live', text)
      })
      const redis = createRedis(config.redis, 1000, silent)
      try {
        await redis.connect()
        return await redis.ping()
      } catch (err) {
        return err instanceof Error ? err.message : String(err)
      } finally {
        redis.disconnect()
      }
    }
    try {
      assert.equal(await connect(`${redisServer.password}\n`), 'PONG')
      assert.notEqual(await connect('wrong-password\n'), 'PONG', 'a wrong password in the file is refused')
    } finally {
      await redisServer.destroy()
    }
  })

  test('cache/start.sh: Redis takes its password from REDIS_PASSWORD_FILE, kept off its command line', async () => {
    const script = new URL('../../../cache/start.sh', import.meta.url).pathname
    const port = await freePort()
    const args = [script, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
    const env = { PATH: process.env.PATH ?? '', REDIS_PASSWORD_FILE: secret('cache', 'c@che "pass"\\x\n') }
    const child = spawn('sh', args, { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    const redis = createRedis(
      { host: '127.0.0.1', port, username: undefined, password: 'c@che "pass"\\x', db: 0, tls: false },
      1000,
      pino({ level: 'silent' })
    )
    try {
      let pong = ''
      for (let i = 0; i < 50 && pong !== 'PONG'; i++) {
        pong = await redis.ping().catch(async () => {
          await new Promise((r) => setTimeout(r, 100))
          return ''
        })
      }
      assert.equal(pong, 'PONG')
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8')
      assert.match(cmdline, /redis-server/)
      assert.doesNotMatch(cmdline, /c@che/, 'the password is not on the command line')
    } finally {
      redis.disconnect()
      child.kill('SIGKILL')
      await once(child, 'exit').catch(() => undefined)
    }
    const both = spawn('sh', [script], { env: { ...env, REDIS_PASSWORD: 'x' }, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    both.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const [code] = (await once(both, 'exit')) as [number]
    assert.equal(code, 2)
    assert.match(stderr, /REDIS_PASSWORD and REDIS_PASSWORD_FILE are both set/)
  })
})
