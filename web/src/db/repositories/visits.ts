import { randomUUID } from 'node:crypto'
import { CommitInDoubt, boundedQuery, mayHaveCommitted, settle, type Settled } from '../commit-in-doubt.js'
import type { Pool } from '../pool.js'

export interface RecordedBatch {
  /** The label's total right after this batch. */
  total: number
  db_time: Date
}

// One statement, so one implicit transaction: the counter row, the log rows and the receipt
// commit together. Prepared once per connection (a named statement): it runs for every batch.
const RECORD_VISITS = `
WITH counter AS (
  INSERT INTO visit_counter AS c (label, total) VALUES ($1, $2)
  ON CONFLICT (label) DO UPDATE SET total = c.total + EXCLUDED.total, updated_at = now()
  RETURNING total
), log AS (
  INSERT INTO visits (label) SELECT $1 FROM generate_series(1, $2)
), receipt AS (
  INSERT INTO visit_receipts (id, total) SELECT $3, total FROM counter
)
SELECT total, clock_timestamp() AS db_time FROM counter`

/** The batch statement's name: in every message that runs it (Parse the first time, Bind each time). */
export const RECORD_VISITS_STATEMENT = 'record-visits'

/** The server process of a pooled client (the driver's types leave it out). */
const backendPid = (client: object): number | null => (client as { processID?: number | null }).processID ?? null

/** Every statement on visit_counter, visits and visit_receipts. */
export class VisitRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Counts `count` visits under `label` in one transaction; returns the new total and the commit
   * clock. Throws CommitInDoubt when the connection broke after the statement was sent.
   */
  async record(label: string, count: number): Promise<RecordedBatch> {
    const receipt = randomUUID()
    const client = await this.pool.connect()
    // A broken connection also emits 'error' on the client; the query's rejection reports it.
    const reported = () => undefined
    client.on('error', reported)
    let rows: RecordedBatch[]
    try {
      rows = (
        await client.query<RecordedBatch>({
          name: RECORD_VISITS_STATEMENT,
          text: RECORD_VISITS,
          values: [label, count, receipt]
        })
      ).rows
    } catch (err) {
      // The listener stays: this client is discarded, and may still report its end.
      client.release(err as Error)
      throw mayHaveCommitted(err) ? new CommitInDoubt(receipt, backendPid(client), err) : err
    }
    client.removeListener('error', reported)
    client.release()
    const row = rows[0]
    if (row === undefined) throw new Error('visit counter returned no row')
    return row
  }

  /** How a batch in doubt ended, read from its receipt once PostgreSQL answers (for up to `waitMs`). */
  settle(doubt: CommitInDoubt, waitMs: number): Promise<Settled<RecordedBatch>> {
    return settle(
      this.pool,
      doubt,
      async (timeoutMs) =>
        (
          await boundedQuery<RecordedBatch>(
            this.pool,
            'SELECT total, recorded_at AS db_time FROM visit_receipts WHERE id = $1',
            [doubt.receipt],
            timeoutMs
          )
        )[0],
      waitMs
    )
  }

  /** Deletes receipts older than `seconds`: they only matter for the moments after a broken connection. */
  async pruneReceipts(seconds: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM visit_receipts WHERE recorded_at < now() - make_interval(secs => $1)',
      [seconds]
    )
    return rowCount ?? 0
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
