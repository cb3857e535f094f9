// Redis password (required, supported, never logged) and Redis over TLS.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect } from 'node:net'
import {
  call,
  PgServer,
  RedisServer,
  freePort,
  redisServerBin,
  serviceEnv,
  eventually,
  spawnService
} from '../helpers/index.js'

describe('Redis password: required, supported, never logged', () => {
  const REDIS_PASSWORD = 'redis-Secret-4242-never-logged'
  const PG_PASSWORD = 'pg-Secret-4343-never-logged'
  let pg: PgServer
  let redis: RedisServer
  before(async () => {
    ;[pg, redis] = await Promise.all([PgServer.start(), RedisServer.start(REDIS_PASSWORD)])
  })
  after(async () => {
    await Promise.all([pg.destroy(), redis.destroy()])
  })

  test('the test Redis refuses clients without the password', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: redis.port }, () =>
        socket.write('GET visit_counter:homepage\r\n')
      )
      socket.once('data', (data) => {
        socket.destroy()
        resolve(data.toString())
      })
      socket.once('error', reject)
    })
    assert.match(reply, /^-NOAUTH/)
  })

  test('right password: healthy; wrong or missing password: degraded, the log says why; no password in any log line', async () => {
    const env = (redisUrl: string) => ({
      ...serviceEnv(pg, redis, { LOG_LEVEL: 'trace', STARTUP_TIMEOUT_S: '2' }),
      DATABASE_URL: pg.url.replace('postgres@', `postgres:${PG_PASSWORD}@`),
      REDIS_URL: redisUrl
    })
    const wrong = 'wrong-Secret-5151-never-logged'
    const runs = [
      { name: 'right password', url: redis.url, cache: 'up' },
      { name: 'wrong password', url: `redis://:${wrong}@127.0.0.1:${redis.port}/0`, cache: 'down' },
      { name: 'no password', url: `redis://127.0.0.1:${redis.port}/0`, cache: 'down' }
    ]
    for (const run of runs) {
      const service = await spawnService(env(run.url))
      try {
        const health = await call(service.url, '/health')
        assert.equal(health.body.services.cache.status, run.cache, run.name)
        if (run.cache === 'down') {
          assert.equal(health.status, 503)
          assert.equal(health.body.status, 'degraded')
          assert.equal(typeof health.body.services.cache.error, 'string', run.name)
        }
        await call(service.url, '/cache', {
          method: 'POST',
          json: { key: 'k', value: REDIS_PASSWORD },
          headers: { authorization: `Bearer ${REDIS_PASSWORD}` }
        })
        await call(service.url, '/nope')
        await call(service.url, '/users')
      } finally {
        service.child.kill('SIGTERM')
        await service.exited
      }
      const log = service.output()
      assert.ok(log.length > 0)
      if (run.cache === 'down')
        assert.match(log, /WRONGPASS|NOAUTH/, `${run.name}: the log names the authentication failure`)
      for (const secret of [REDIS_PASSWORD, PG_PASSWORD, wrong, encodeURIComponent(REDIS_PASSWORD)]) {
        assert.ok(!log.includes(secret), `${run.name}: a password appears in the log`)
      }
    }
  })
})

describe('Redis over TLS (rediss://)', () => {
  let dir: string
  let pg: PgServer
  let redisChild: ChildProcess | undefined
  let port: number
  let available = true
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wdc-tls-'))
    const openssl = (args: string[]) => spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n')
    const steps = [
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '2',
        '-subj',
        '/CN=web-db-cache test CA'
      ],
      ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'],
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.pem',
        '-days',
        '2',
        '-extfile',
        'ext.cnf'
      ]
    ]
    for (const step of steps) {
      const result = openssl(step)
      if (result.status !== 0) {
        available = false
        return
      }
    }
    pg = await PgServer.start()
    port = await freePort()
    redisChild = spawn(
      redisServerBin(),
      [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--tls-cert-file',
        'server.pem',
        '--tls-key-file',
        'server.key',
        '--tls-ca-cert-file',
        'ca.pem',
        '--tls-auth-clients',
        'no',
        '--requirepass',
        'tls-password',
        '--save',
        '',
        '--dir',
        dir
      ],
      { cwd: dir, stdio: 'ignore' }
    )
    await sleep(300)
    if (redisChild.exitCode !== null) available = false
  })
  after(async () => {
    redisChild?.kill('SIGKILL')
    await pg?.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  test('the service talks to Redis over TLS, verifying the server certificate', async (t) => {
    if (!available) {
      t.skip('openssl or a TLS-enabled redis-server is not available')
      return
    }
    const base = { DATABASE_URL: pg.url, HOST: '127.0.0.1', LOG_LEVEL: 'silent', STARTUP_TIMEOUT_S: '5' }
    const trusted = await spawnService({
      ...base,
      REDIS_URL: `rediss://:tls-password@127.0.0.1:${port}/0`,
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem')
    })
    try {
      await eventually('healthy over TLS', async () => (await call(trusted.url, '/health')).status === 200, 10_000)
      assert.equal(
        (await call(trusted.url, '/cache', { method: 'POST', json: { key: 'tls', value: { ok: true } } })).status,
        201
      )
      assert.deepEqual({ ...(await call(trusted.url, '/cache/tls')).body.value }, { ok: true })
    } finally {
      await trusted.destroy()
    }
    // Without the CA the certificate is not trusted: the cache is down, nothing is sent in clear.
    const untrusted = await spawnService({ ...base, REDIS_URL: `rediss://:tls-password@127.0.0.1:${port}/0` })
    try {
      const health = await call(untrusted.url, '/health')
      assert.equal(health.status, 503)
      assert.equal(health.body.services.cache.status, 'down')
    } finally {
      await untrusted.destroy()
    }
  })
})
