import type { FastifyBaseLogger } from 'fastify'
import type { Pool } from './pool.js'
import { ProbeRepository } from './repositories/probes.js'
import { migrate } from './migrate.js'
import { waitFor } from '../wait-for-dependency.js'

/** Waits until PostgreSQL answers, the first step of both the server and `npm run migrate`. */
export function waitForDatabase(pool: Pool, timeoutS: number, log: FastifyBaseLogger): Promise<void> {
  const probes = new ProbeRepository(pool)
  return waitFor('PostgreSQL', () => probes.ping(), timeoutS, log)
}

/** Waits for PostgreSQL, then applies pending migrations if asked to: the server's start and `npm run migrate`. */
export async function prepareDatabase(
  pool: Pool,
  { timeoutS, applyMigrations }: { timeoutS: number; applyMigrations: boolean },
  log: FastifyBaseLogger
): Promise<void> {
  await waitForDatabase(pool, timeoutS, log)
  if (!applyMigrations) return
  const applied = await migrate(pool, log)
  log.info({ applied }, applied.length > 0 ? 'migrations applied' : 'schema up to date')
}
