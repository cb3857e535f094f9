import { readSecret } from './config/secrets.js'
import { readTrustProxy } from './config/trust-proxy.js'

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

export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Env = Record<string, string | undefined>

const configError = (message: string): ConfigError => new ConfigError(message)

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`)
  return value
}

function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase()
  if (raw === undefined || raw === '') return fallback
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true
  if (['0', 'false', 'no', 'off'].includes(raw)) return false
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`)
}

function readString(env: Env, name: string, fallback: string): string {
  const raw = env[name]
  return raw === undefined || raw === '' ? fallback : raw
}

function optional(env: Env, name: string): string | undefined {
  const raw = env[name]
  return raw === undefined || raw === '' ? undefined : raw
}

function parseUrl(name: string, raw: string, protocols: string[]): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    // Never echo the value: it may hold a password.
    throw new ConfigError(`${name} is not a valid URL`)
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`)
  }
  return url
}

function parseDatabase(env: Env): DatabaseConfig {
  const poolMax = readInt(env, 'PG_POOL_MAX', 10, 1, 200)
  const databaseUrl = optional(env, 'DATABASE_URL')
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
    host: readString(env, 'PGHOST', 'db'),
    port: readInt(env, 'PGPORT', 5432, 1, 65535),
    user: readString(env, 'PGUSER', 'postgres'),
    password: readSecret(env, 'PGPASSWORD', configError),
    database: readString(env, 'PGDATABASE', 'postgres'),
    ssl: (optional(env, 'PGSSLMODE') ?? 'disable') !== 'disable',
    poolMax
  }
}

function parseRedis(env: Env): RedisConfig {
  const redisUrl = optional(env, 'REDIS_URL')
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
    host: readString(env, 'REDIS_HOST', 'cache'),
    port: readInt(env, 'REDIS_PORT', 6379, 1, 65535),
    username: optional(env, 'REDIS_USERNAME'),
    password: readSecret(env, 'REDIS_PASSWORD', configError),
    db: readInt(env, 'REDIS_DB', 0, 0, 15),
    tls: readBool(env, 'REDIS_TLS', false)
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export function loadConfig(env: Env = process.env): Config {
  const logLevel = readString(env, 'LOG_LEVEL', 'info')
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)
  const apiToken = optional(env, 'API_TOKEN')
  if (apiToken !== undefined && apiToken.length < 16)
    throw new ConfigError('API_TOKEN must be at least 16 characters long')
  return {
    host: readString(env, 'HOST', '0.0.0.0'),
    port: readInt(env, 'PORT', 8000, 0, 65535),
    logLevel,
    nodeEnv: readString(env, 'NODE_ENV', 'development'),
    database: parseDatabase(env),
    redis: parseRedis(env),
    startupTimeoutS: readInt(env, 'STARTUP_TIMEOUT_S', 60, 0, 3600),
    cacheTtlS: readInt(env, 'CACHE_TTL_S', 60, 1, 86400),
    nearCache: {
      maxEntries: readInt(env, 'NEAR_CACHE_MAX_ENTRIES', 10_000, 0, 10_000_000),
      maxBytes: readInt(env, 'NEAR_CACHE_MAX_MB', 16, 1, 4096) * 1024 * 1024
    },
    apiToken,
    rateLimitMax: readInt(env, 'RATE_LIMIT_MAX', 0, 0, 1_000_000),
    corsOrigins: (optional(env, 'CORS_ORIGIN') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    dependencyTimeoutMs: readInt(env, 'DEPENDENCY_TIMEOUT_MS', 2000, 50, 60000),
    migrateOnStart: readBool(env, 'MIGRATE_ON_START', true),
    trustProxy: readTrustProxy(env, configError),
    stackImageNote: optional(env, 'STACK_IMAGE_NOTE'),
    visitsRetentionDays: readInt(env, 'VISITS_RETENTION_DAYS', 30, 0, 36_500),
    maxInFlightPerConnection: readInt(env, 'MAX_IN_FLIGHT_PER_CONNECTION', 4, 1, 100),
    requestTimeoutMs: readInt(env, 'REQUEST_TIMEOUT_MS', 30_000, 1000, 600_000),
    pressure: {
      maxEventLoopDelayMs: readInt(env, 'MAX_EVENT_LOOP_DELAY_MS', 1000, 0, 60_000),
      maxHeapUsedMb: readInt(env, 'MAX_HEAP_USED_MB', 256, 0, 65_536),
      maxRssMb: readInt(env, 'MAX_RSS_MB', 320, 0, 65_536)
    }
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
