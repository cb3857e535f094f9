import { Redis, type RedisOptions } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import type { RedisConfig } from '../config.js'
import { boundCommands } from './deadline.js'

/**
 * Commands fail fast while Redis is away (no offline queue) and time out when it hangs,
 * so a dead or frozen cache never holds a request hostage. Reconnection is endless, with backoff.
 */
export function createRedis(config: RedisConfig, dependencyTimeoutMs: number, log: FastifyBaseLogger): Redis {
  const commandTimeoutMs = Math.min(dependencyTimeoutMs, 1000)
  const options: RedisOptions = {
    host: config.host,
    port: config.port,
    username: config.username,
    password: config.password,
    db: config.db,
    tls: config.tls ? {} : undefined,
    connectionName: 'web-db-cache',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: dependencyTimeoutMs,
    lazyConnect: true,
    // Commands issued in the same event-loop turn (by concurrent requests) go out in one write and
    // come back in one read: far fewer system calls per request for us and for Redis under load.
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000)
  }
  const redis = new Redis(options)
  boundCommands(redis, commandTimeoutMs)
  let reported = false
  redis.on('error', (err: Error) => {
    // One line per outage, not one per reconnect attempt.
    if (!reported)
      log.warn({ err: { message: err.message } }, 'Redis connection error; serving from PostgreSQL where possible')
    reported = true
  })
  redis.on('ready', () => {
    if (reported) log.info('Redis connection restored')
    reported = false
  })
  return redis
}

export type { Redis }
