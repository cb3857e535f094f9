/**
 * Every environment variable the service reads: name, type, default, allowed range and meaning.
 * Scalar settings are parsed from this table alone (config/parse.ts); the rest have parsers of
 * their own (URLs, secrets, the proxy list) and are listed so the docs can be checked against it.
 */

interface Described {
  env: string
  description: string
}

export interface IntSetting extends Described {
  type: 'int'
  default: number
  min: number
  max: number
}

export interface BoolSetting extends Described {
  type: 'bool'
  default: boolean
}

export interface StringSetting extends Described {
  type: 'string'
  default: string
  /** When given, the only values accepted. */
  oneOf?: readonly string[]
}

/** A string with no default: unset and empty both mean undefined. */
export interface OptionalSetting extends Described {
  type: 'optional'
  minLength?: number
}

/** A comma-separated list; blanks are dropped, unset means empty. */
export interface ListSetting extends Described {
  type: 'list'
}

export type ScalarSetting = IntSetting | BoolSetting | StringSetting | OptionalSetting | ListSetting

/** A variable parsed by its own module. */
export interface OtherVariable extends Described {
  type: 'url' | 'secret' | 'secret-file' | 'proxy-list'
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export const SETTINGS = {
  host: { env: 'HOST', type: 'string', default: '0.0.0.0', description: 'address the service listens on' },
  port: { env: 'PORT', type: 'int', default: 8000, min: 0, max: 65535, description: 'port the service listens on' },
  logLevel: { env: 'LOG_LEVEL', type: 'string', default: 'info', oneOf: LOG_LEVELS, description: 'pino log level' },
  nodeEnv: { env: 'NODE_ENV', type: 'string', default: 'development', description: 'production in the image' },
  pgPoolMax: {
    env: 'PG_POOL_MAX',
    type: 'int',
    default: 10,
    min: 1,
    max: 200,
    description: 'PostgreSQL connections in the pool'
  },
  pgHost: { env: 'PGHOST', type: 'string', default: 'db', description: 'PostgreSQL host' },
  pgPort: { env: 'PGPORT', type: 'int', default: 5432, min: 1, max: 65535, description: 'PostgreSQL port' },
  pgUser: { env: 'PGUSER', type: 'string', default: 'postgres', description: 'PostgreSQL role' },
  pgDatabase: { env: 'PGDATABASE', type: 'string', default: 'postgres', description: 'PostgreSQL database' },
  pgSslMode: {
    env: 'PGSSLMODE',
    type: 'string',
    default: 'disable',
    description: 'anything but disable turns TLS to PostgreSQL on'
  },
  redisHost: { env: 'REDIS_HOST', type: 'string', default: 'cache', description: 'Redis host' },
  redisPort: { env: 'REDIS_PORT', type: 'int', default: 6379, min: 1, max: 65535, description: 'Redis port' },
  redisUsername: { env: 'REDIS_USERNAME', type: 'optional', description: 'Redis ACL user (default user when unset)' },
  redisDb: { env: 'REDIS_DB', type: 'int', default: 0, min: 0, max: 15, description: 'Redis database number' },
  redisTls: { env: 'REDIS_TLS', type: 'bool', default: false, description: 'TLS to Redis' },
  startupTimeoutS: {
    env: 'STARTUP_TIMEOUT_S',
    type: 'int',
    default: 60,
    min: 0,
    max: 3600,
    description: 'seconds to wait for PostgreSQL / Redis at start'
  },
  cacheTtlS: {
    env: 'CACHE_TTL_S',
    type: 'int',
    default: 60,
    min: 1,
    max: 86400,
    description: 'lifetime of cached copies (visit total, user reads)'
  },
  nearCacheMaxEntries: {
    env: 'NEAR_CACHE_MAX_ENTRIES',
    type: 'int',
    default: 10_000,
    min: 0,
    max: 10_000_000,
    description: 'in-process copies of cached reads, kept coherent by Redis invalidations; 0 turns them off'
  },
  nearCacheMaxMb: {
    env: 'NEAR_CACHE_MAX_MB',
    type: 'int',
    default: 16,
    min: 1,
    max: 4096,
    description: 'memory bound of the in-process copies (MiB, estimated)'
  },
  apiToken: {
    env: 'API_TOKEN',
    type: 'optional',
    minLength: 16,
    description: 'when set, write routes need Authorization: Bearer <token>'
  },
  rateLimitMax: {
    env: 'RATE_LIMIT_MAX',
    type: 'int',
    default: 0,
    min: 0,
    max: 1_000_000,
    description: 'write requests per minute per client IP; 0 disables the limit'
  },
  corsOrigins: { env: 'CORS_ORIGIN', type: 'list', description: 'allowed CORS origins; empty turns CORS off' },
  dependencyTimeoutMs: {
    env: 'DEPENDENCY_TIMEOUT_MS',
    type: 'int',
    default: 2000,
    min: 50,
    max: 60000,
    description: 'longest wait for a dependency within a request'
  },
  visitInDoubtWaitMs: {
    env: 'VISIT_IN_DOUBT_WAIT_MS',
    type: 'int',
    default: 8000,
    min: 0,
    max: 60_000,
    description: 'how long a visit whose commit was cut off waits for PostgreSQL to tell whether it counted'
  },
  migrateOnStart: { env: 'MIGRATE_ON_START', type: 'bool', default: true, description: 'apply migrations at start' },
  stackImageNote: {
    env: 'STACK_IMAGE_NOTE',
    type: 'optional',
    description: 'set by ./run.sh when the stack runs stand-in images'
  },
  visitsRetentionDays: {
    env: 'VISITS_RETENTION_DAYS',
    type: 'int',
    default: 30,
    min: 0,
    max: 36_500,
    description: 'days of the visit log kept; 0 keeps every row'
  },
  maxInFlightPerConnection: {
    env: 'MAX_IN_FLIGHT_PER_CONNECTION',
    type: 'int',
    default: 4,
    min: 1,
    max: 100,
    description: 'requests of one connection worked on at once'
  },
  requestTimeoutMs: {
    env: 'REQUEST_TIMEOUT_MS',
    type: 'int',
    default: 30_000,
    min: 1000,
    max: 600_000,
    description: 'longest time to receive one whole request; then 408'
  },
  maxEventLoopDelayMs: {
    env: 'MAX_EVENT_LOOP_DELAY_MS',
    type: 'int',
    default: 1000,
    min: 0,
    max: 60_000,
    description: 'load shedding on event-loop delay; 0 turns it off'
  },
  maxHeapUsedMb: {
    env: 'MAX_HEAP_USED_MB',
    type: 'int',
    default: 256,
    min: 0,
    max: 65_536,
    description: 'load shedding on heap used; 0 turns it off'
  },
  maxRssMb: {
    env: 'MAX_RSS_MB',
    type: 'int',
    default: 320,
    min: 0,
    max: 65_536,
    description: 'load shedding on resident memory; 0 turns it off'
  }
} as const satisfies Record<string, ScalarSetting>

export const OTHER_VARIABLES: readonly OtherVariable[] = [
  { env: 'DATABASE_URL', type: 'url', description: 'postgres(ql):// URL; wins over the PG* variables' },
  { env: 'PGPASSWORD', type: 'secret', description: 'PostgreSQL password' },
  { env: 'PGPASSWORD_FILE', type: 'secret-file', description: 'file holding the PostgreSQL password' },
  { env: 'REDIS_URL', type: 'url', description: 'redis(s):// URL; wins over the REDIS_* variables' },
  { env: 'REDIS_PASSWORD', type: 'secret', description: 'Redis password' },
  { env: 'REDIS_PASSWORD_FILE', type: 'secret-file', description: 'file holding the Redis password' },
  { env: 'TRUST_PROXY', type: 'proxy-list', description: "peers whose X-Forwarded-For gives the client's address" }
]

/** Every variable the service reads. */
export const ALL_VARIABLES: readonly (ScalarSetting | OtherVariable)[] = [
  ...Object.values(SETTINGS),
  ...OTHER_VARIABLES
]
