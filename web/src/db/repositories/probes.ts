import type pg from 'pg'
import type { Pool } from '../pool.js'

/** The doctor's check on a single client: proves the protocol round trip and names the server. */
export async function selectOneAndVersion(client: pg.Client): Promise<{ one: number; version: string } | undefined> {
  const { rows } = await client.query<{ one: number; version: string }>(
    "SELECT 1 AS one, current_setting('server_version') AS version"
  )
  return rows[0]
}

/** The statements of the round-trip probe and the health checks: the cheapest ones PostgreSQL answers. */
export class ProbeRepository {
  constructor(private readonly pool: Pool) {}

  /** The server's clock and version in one round trip. */
  async clockAndVersion(): Promise<{ time: Date; version: string } | undefined> {
    const { rows } = await this.pool.query<{ time: Date; version: string }>(
      "SELECT now() AS time, current_setting('server_version') AS version"
    )
    return rows[0]
  }

  async serverVersion(): Promise<string | null> {
    const { rows } = await this.pool.query<{ server_version: string }>('SHOW server_version')
    return rows[0]?.server_version ?? null
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1')
  }
}
