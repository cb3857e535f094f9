import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, describeTargets, loadConfig } from '../../src/config.js'

test('defaults point at the compose services db and cache on port 8000', () => {
  const config = loadConfig({})
  assert.equal(config.port, 8000)
  assert.equal(config.host, '0.0.0.0')
  assert.equal(config.database.host, 'db')
  assert.equal(config.database.port, 5432)
  assert.equal(config.redis.host, 'cache')
  assert.equal(config.redis.port, 6379)
  assert.equal(config.apiToken, undefined)
  assert.equal(config.rateLimitMax, 0)
})

test('DATABASE_URL wins over libpq variables and is decoded', () => {
  const config = loadConfig({
    DATABASE_URL: 'postgresql://app%40x:p%40ss@pg.local:6543/my%20db?sslmode=require',
    PGHOST: 'ignored'
  })
  assert.deepEqual(
    { ...config.database, poolMax: 0 },
    { host: 'pg.local', port: 6543, user: 'app@x', password: 'p@ss', database: 'my db', ssl: true, poolMax: 0 }
  )
})

test('libpq variables are read when DATABASE_URL is absent', () => {
  const config = loadConfig({ PGHOST: 'h', PGPORT: '5433', PGUSER: 'u', PGPASSWORD: 'pw', PGDATABASE: 'd' })
  assert.equal(config.database.host, 'h')
  assert.equal(config.database.port, 5433)
  assert.equal(config.database.user, 'u')
  assert.equal(config.database.password, 'pw')
  assert.equal(config.database.database, 'd')
})

test('REDIS_URL with password, database and TLS; REDIS_HOST/PORT/PASSWORD otherwise', () => {
  const fromUrl = loadConfig({ REDIS_URL: 'rediss://:s3cret@r.local:6380/2' })
  assert.deepEqual(fromUrl.redis, {
    host: 'r.local',
    port: 6380,
    username: undefined,
    password: 's3cret',
    db: 2,
    tls: true
  })
  const fromVars = loadConfig({ REDIS_HOST: 'x', REDIS_PORT: '7000', REDIS_PASSWORD: 'pw' })
  assert.equal(fromVars.redis.host, 'x')
  assert.equal(fromVars.redis.port, 7000)
  assert.equal(fromVars.redis.password, 'pw')
  assert.equal(fromVars.redis.tls, false)
})

test('invalid values stop with one message naming the variable', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'eighty' }, /^PORT must be an integer/],
    [{ PORT: '70000' }, /^PORT must be between 0 and 65535/],
    [{ PGPORT: '-1' }, /^PGPORT must be between/],
    [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL is not a valid URL$/],
    [{ DATABASE_URL: 'mysql://x@y/z' }, /^DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//],
    [{ REDIS_URL: 'http://cache:6379' }, /^REDIS_URL must start with redis:\/\/ or rediss:\/\//],
    [{ REDIS_URL: 'redis://cache:6379/abc' }, /^REDIS_URL database/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [{ API_TOKEN: 'short' }, /^API_TOKEN must be at least 16 characters/],
    [{ MIGRATE_ON_START: 'maybe' }, /^MIGRATE_ON_START must be true or false/],
    [{ CACHE_TTL_S: '0' }, /^CACHE_TTL_S must be between 1 and/],
    [{ NEAR_CACHE_MAX_ENTRIES: '-1' }, /^NEAR_CACHE_MAX_ENTRIES must be between 0 and/],
    [{ NEAR_CACHE_MAX_ENTRIES: 'lots' }, /^NEAR_CACHE_MAX_ENTRIES must be an integer/],
    [{ NEAR_CACHE_MAX_MB: '0' }, /^NEAR_CACHE_MAX_MB must be between 1 and/]
  ]
  for (const [env, message] of cases) {
    assert.throws(
      () => loadConfig(env),
      (err: unknown) => err instanceof ConfigError && message.test(err.message),
      JSON.stringify(env)
    )
  }
})

test('the near cache is on by default, bounded, and NEAR_CACHE_MAX_ENTRIES=0 turns it off', () => {
  assert.deepEqual(loadConfig({}).nearCache, { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 })
  assert.equal(loadConfig({ NEAR_CACHE_MAX_ENTRIES: '0' }).nearCache.maxEntries, 0)
  assert.equal(loadConfig({ NEAR_CACHE_MAX_MB: '2' }).nearCache.maxBytes, 2 * 1024 * 1024)
})

test('a malformed URL never echoes its password', () => {
  assert.throws(
    () => loadConfig({ DATABASE_URL: 'postgres://u:hunter2@:bad:port/x' }),
    (err: Error) => !err.message.includes('hunter2')
  )
})

test('describeTargets shows where we connect without secrets', () => {
  const targets = describeTargets(
    loadConfig({ DATABASE_URL: 'postgres://u:topsecret@h:1/d', REDIS_URL: 'redis://:alsosecret@c:2/0' })
  )
  assert.equal(targets.db, 'postgresql://u@h:1/d')
  assert.equal(targets.cache, 'redis://c:2/0')
  assert.ok(!JSON.stringify(targets).includes('secret'))
})

test('CORS origins are a comma-separated list; empty means off', () => {
  assert.deepEqual(loadConfig({ CORS_ORIGIN: 'http://a.test, http://b.test' }).corsOrigins, [
    'http://a.test',
    'http://b.test'
  ])
  assert.deepEqual(loadConfig({}).corsOrigins, [])
})
