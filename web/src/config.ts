import { readSecret } from './config/secrets.js'
import { readTrustProxy } from './config/trust-proxy.js'
import { readTracing, type TracingConfig } from './config/tracing.js'
import { SETTINGS } from './config/table.js'
import { ConfigError, configError, parseUrl, readSetting, type Env, type SettingValue } from './config/parse.js'

export { ConfigError }

/** Everything the service reads from its environment, parsed and checked once at start. */
export interface Config {
  host: string
  port: number
  logLevel: string
  nodeEnv: string
  database: DatabaseConfig
  redis: RedisConfig
  /** Seconds to keep waiting for PostgreSQL / Redis at start before giving up. */
  startupTimeoutS: number
  /** TTL of cached copies (visit total, user reads). */
  cacheTtlS: number
  /** In-process copies of cached reads, kept coherent by Redis; maxEntries 0 turns them off. */
  nearCache: { maxEntries: number; maxBytes: number }
  /** When set, write routes need `Authorization: Bearer <apiToken>`. */
  apiToken: string | undefined
  /** Write requests per minute per client IP; 0 disables the limit. */
  rateLimitMax: number
  /** Allowed CORS origins; empty means CORS is off. */
  corsOrigins: string[]
  /** Hard limit on how long one request may wait for a dependency. */
  dependencyTimeoutMs: number
  /**
   * How long a visit whose connection broke during its commit waits for PostgreSQL to answer again,
   * so the service can tell whether it was counted (0: answer at once that the outcome is unknown).
   */
  visitInDoubtWaitMs: number
  /** Whether to run migrations on start (replicas may leave it to one job). */
  migrateOnStart: boolean
  /** Peers (the proxy) whose X-Forwarded-For gives the client's address; false trusts none. */
  trustProxy: string[] | false
  /** Days of the visit log kept (the total is kept forever); 0 keeps every row. */
  visitsRetentionDays: number
  /** Set by ./run.sh when the stack runs stand-in images: which ones, and their real versions. */
  stackImageNote: string | undefined
  /** Requests of one connection worked on at once; pipelined ones beyond wait unread. */
  maxInFlightPerConnection: number
  /** Longest time to receive one whole request (headers and body); then 408. */
  requestTimeoutMs: number
  /** Process-wide load shedding thresholds (0 turns one off). */
  pressure: { maxEventLoopDelayMs: number; maxHeapUsedMb: number; maxRssMb: number }
  /** OpenTelemetry tracing (the standard OTEL_* variables); undefined when off. */
  tracing: TracingConfig | undefined
}

export interface DatabaseConfig {
  host: string
  port: number
  user: string
  password: string | undefined
  database: string
  ssl: boolean
  poolMax: number
}

export interface RedisConfig {
  host: string
  port: number
  username: string | undefined
  password: string | undefined
  db: number
  tls: boolean
}

/** One setting of the table, parsed from `env`. */
const setting =
  (env: Env) =>
  <K extends keyof typeof SETTINGS>(key: K): SettingValue<(typeof SETTINGS)[K]> =>
    readSetting(env, SETTINGS[key])

function parseDatabase(env: Env): DatabaseConfig {
  const read = setting(env)
  const poolMax = read('pgPoolMax')
  const databaseUrl = env.DATABASE_URL || undefined
  if (databaseUrl !== undefined) {
    const url = parseUrl('DATABASE_URL', databaseUrl, ['postgres:', 'postgresql:'])
    const sslmode = url.searchParams.get('sslmode')
    const fromFile = readSecret({ PGPASSWORD_FILE: env.PGPASSWORD_FILE }, 'PGPASSWORD', configError)
    if (url.password !== '' && fromFile !== undefined)
      throw new ConfigError('DATABASE_URL has a password and PGPASSWORD_FILE is set: use one of them')
    return {
      host: decodeURIComponent(url.hostname) || 'db',
      port: url.port === '' ? 5432 : Number(url.port),
      user: decodeURIComponent(url.username) || 'postgres',
      password: url.password === '' ? fromFile : decodeURIComponent(url.password),
      database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
      ssl: sslmode !== null && sslmode !== 'disable',
      poolMax
    }
  }
  return {
    host: read('pgHost'),
    port: read('pgPort'),
    user: read('pgUser'),
    password: readSecret(env, 'PGPASSWORD', configError),
    database: read('pgDatabase'),
    ssl: read('pgSslMode') !== 'disable',
    poolMax
  }
}

function parseRedis(env: Env): RedisConfig {
  const read = setting(env)
  const redisUrl = env.REDIS_URL || undefined
  if (redisUrl !== undefined) {
    const url = parseUrl('REDIS_URL', redisUrl, ['redis:', 'rediss:'])
    const dbPath = url.pathname.replace(/^\//, '')
    const fromFile = readSecret({ REDIS_PASSWORD_FILE: env.REDIS_PASSWORD_FILE }, 'REDIS_PASSWORD', configError)
    if (url.password !== '' && fromFile !== undefined)
      throw new ConfigError('REDIS_URL has a password and REDIS_PASSWORD_FILE is set: use one of them')
    if (dbPath !== '' && !/^\d+$/.test(dbPath)) throw new ConfigError('REDIS_URL database (path) must be a number')
    return {
      host: url.hostname || 'cache',
      port: url.port === '' ? 6379 : Number(url.port),
      username: url.username === '' ? undefined : decodeURIComponent(url.username),
      password: url.password === '' ? fromFile : decodeURIComponent(url.password),
      db: dbPath === '' ? 0 : Number(dbPath),
      tls: url.protocol === 'rediss:'
    }
  }
  return {
    host: read('redisHost'),
    port: read('redisPort'),
    username: read('redisUsername'),
    password: readSecret(env, 'REDIS_PASSWORD', configError),
    db: read('redisDb'),
    tls: read('redisTls')
  }
}

export function loadConfig(env: Env = process.env): Config {
  const read = setting(env)
  const logLevel = read('logLevel')
  const apiToken = read('apiToken')
  return {
    host: read('host'),
    port: read('port'),
    logLevel,
    nodeEnv: read('nodeEnv'),
    database: parseDatabase(env),
    redis: parseRedis(env),
    startupTimeoutS: read('startupTimeoutS'),
    cacheTtlS: read('cacheTtlS'),
    nearCache: {
      maxEntries: read('nearCacheMaxEntries'),
      maxBytes: read('nearCacheMaxMb') * 1024 * 1024
    },
    apiToken,
    rateLimitMax: read('rateLimitMax'),
    corsOrigins: read('corsOrigins'),
    dependencyTimeoutMs: read('dependencyTimeoutMs'),
    migrateOnStart: read('migrateOnStart'),
    trustProxy: readTrustProxy(env, configError),
    stackImageNote: read('stackImageNote'),
    visitsRetentionDays: read('visitsRetentionDays'),
    maxInFlightPerConnection: read('maxInFlightPerConnection'),
    requestTimeoutMs: read('requestTimeoutMs'),
    visitInDoubtWaitMs: read('visitInDoubtWaitMs'),
    pressure: {
      maxEventLoopDelayMs: read('maxEventLoopDelayMs'),
      maxHeapUsedMb: read('maxHeapUsedMb'),
      maxRssMb: read('maxRssMb')
    },
    tracing: readTracing(env, configError)
  }
}

/** A printable description of where we connect, without secrets. */
export function describeTargets(config: Config): { db: string; cache: string } {
  const { database: d, redis: r } = config
  return {
    db: `postgresql://${d.user}@${d.host}:${d.port}/${d.database}`,
    cache: `${r.tls ? 'rediss' : 'redis'}://${r.host}:${r.port}/${r.db}`
  }
}
