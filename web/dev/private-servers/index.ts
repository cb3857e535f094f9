/**
 * Private PostgreSQL and Redis servers for tests and the benchmark: temporary data folders, free
 * ports, started and stopped here only. Tests may kill, pause and restart them to inject faults;
 * nothing else is touched.
 */
import type { PgServer } from './postgres.js'
import type { RedisServer } from './redis.js'

export { PgServer, type PgOptions } from './postgres.js'
export { RedisServer } from './redis.js'
export { capture, freePort, postgresBinDir, redisServerBin } from './processes.js'

export function serviceEnv(
  pgServer: PgServer,
  redisServer: RedisServer,
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    DATABASE_URL: pgServer.url,
    REDIS_URL: redisServer.url,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    STARTUP_TIMEOUT_S: '10',
    ...extra
  }
}
