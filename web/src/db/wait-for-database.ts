import type { FastifyBaseLogger } from 'fastify'
import type { Pool } from './pool.js'
import { ProbeRepository } from './repositories/probes.js'
import { waitFor } from '../wait-for-dependency.js'

/** Waits until PostgreSQL answers, the first step of both the server and `npm run migrate`. */
export function waitForDatabase(pool: Pool, timeoutS: number, log: FastifyBaseLogger): Promise<void> {
  const probes = new ProbeRepository(pool)
  return waitFor('PostgreSQL', () => probes.ping(), timeoutS, log)
}
