import type { Pool } from '../pool.js'

// One statement, so one implicit transaction: the counter row and the log rows commit together.
const RECORD_VISITS = `
WITH counter AS (
  INSERT INTO visit_counter AS c (label, total) VALUES ($1, $2)
  ON CONFLICT (label) DO UPDATE SET total = c.total + EXCLUDED.total, updated_at = now()
  RETURNING total
), log AS (
  INSERT INTO visits (label) SELECT $1 FROM generate_series(1, $2)
)
SELECT total, clock_timestamp() AS db_time FROM counter`

/** Every statement on visit_counter and visits. */
export class VisitRepository {
  constructor(private readonly pool: Pool) {}

  /** Counts `count` visits under `label` in one transaction; returns the new total and the commit clock. */
  async record(label: string, count: number): Promise<{ total: number; db_time: Date }> {
    const { rows } = await this.pool.query<{ total: number; db_time: Date }>(RECORD_VISITS, [label, count])
    const row = rows[0]
    if (row === undefined) throw new Error('visit counter returned no row')
    return row
  }

  async total(label: string): Promise<number> {
    const { rows } = await this.pool.query<{ total: number }>('SELECT total FROM visit_counter WHERE label = $1', [
      label
    ])
    return rows[0]?.total ?? 0
  }

  /**
   * Deletes up to `batch` of the oldest log rows older than `days` days; returns how many went.
   * The oldest rows have the lowest ids, so the primary key finds them: O(batch), no full scan,
   * and each statement is short, so no lock is held for long. The counter is not touched.
   */
  async pruneOlderThan(days: number, batch: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM visits WHERE id IN (SELECT id FROM visits ORDER BY id LIMIT $2)
       AND visited_at < now() - make_interval(days => $1)`,
      [days, batch]
    )
    return rowCount ?? 0
  }

  async recent(label: string, limit: number): Promise<Array<{ id: number; visited_at: Date }>> {
    const { rows } = await this.pool.query<{ id: number; visited_at: Date }>(
      'SELECT id, visited_at FROM visits WHERE label = $1 ORDER BY id DESC LIMIT $2',
      [label, limit]
    )
    return rows
  }
}
