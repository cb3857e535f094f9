import { runner } from 'node-pg-migrate'
import type pg from 'pg'
import type { FastifyBaseLogger } from 'fastify'
import { MIGRATIONS_DIR } from '../paths.js'

/**
 * Applies pending migrations. node-pg-migrate holds a PostgreSQL advisory lock while it works;
 * with advisoryLockMode 'wait', replicas that start together queue up instead of failing.
 */
export async function migrate(pool: pg.Pool, log: FastifyBaseLogger, dir = MIGRATIONS_DIR): Promise<string[]> {
  const client = await pool.connect()
  try {
    const applied = await runner({
      dbClient: client,
      dir,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      advisoryLockMode: 'wait',
      singleTransaction: true,
      checkOrder: true,
      logger: {
        debug: () => {},
        info: (msg: string) => log.debug(msg),
        warn: (msg: string) => log.warn(msg),
        error: (msg: string) => log.error(msg)
      }
    })
    return applied.map((m) => m.name)
  } finally {
    client.release()
  }
}
