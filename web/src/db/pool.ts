import pg from 'pg'
import type { FastifyBaseLogger } from 'fastify'
import type { DatabaseConfig } from '../config.js'

// bigint columns (ids, totals) fit easily in a JS number for this service's range.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value))

/** The driver's settings for the configured database: timeouts bounded on both ends. */
export function poolConfig(db: DatabaseConfig, dependencyTimeoutMs: number): pg.PoolConfig {
  return {
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.database,
    ssl: db.ssl ? { rejectUnauthorized: false } : undefined,
    max: db.poolMax,
    connectionTimeoutMillis: dependencyTimeoutMs,
    // Bounded on both ends: the server cancels, and the client stops waiting if the server cannot.
    statement_timeout: dependencyTimeoutMs * 2,
    query_timeout: dependencyTimeoutMs * 2 + 500,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'web-db-cache'
  }
}

export function createPool(db: DatabaseConfig, dependencyTimeoutMs: number, log: FastifyBaseLogger): pg.Pool {
  const pool = new pg.Pool(poolConfig(db, dependencyTimeoutMs))
  // An idle client dies when PostgreSQL restarts; without a listener that would crash the process.
  pool.on('error', (err) =>
    log.warn({ err: { message: err.message } }, 'idle PostgreSQL client lost; the pool will reconnect')
  )
  return pool
}

export type Pool = pg.Pool
