import pg from 'pg'
import type { FastifyBaseLogger } from 'fastify'
import { poolConfig, type DatabaseConfig } from '../config.js'

// bigint columns (ids, totals) fit easily in a JS number for this service's range.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value))

export function createPool(db: DatabaseConfig, dependencyTimeoutMs: number, log: FastifyBaseLogger): pg.Pool {
  const pool = new pg.Pool(poolConfig(db, dependencyTimeoutMs))
  // An idle client dies when PostgreSQL restarts; without a listener that would crash the process.
  pool.on('error', (err) =>
    log.warn({ err: { message: err.message } }, 'idle PostgreSQL client lost; the pool will reconnect')
  )
  return pool
}

export type Pool = pg.Pool
