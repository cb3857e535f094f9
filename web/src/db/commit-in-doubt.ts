import { setTimeout as sleep } from 'node:timers/promises'
import type { Pool } from './pool.js'

/** Pause between two attempts to reach PostgreSQL while settling a commit in doubt. */
const RETRY_MS = 200

/**
 * A write was sent, then the connection broke (or the client stopped waiting) before PostgreSQL
 * said how it ended: it may have committed or not. `receipt` names a row the write inserts in its
 * own transaction; `backendPid` is the server process that ran it.
 */
export class CommitInDoubt extends Error {
  constructor(
    readonly receipt: string,
    readonly backendPid: number | null,
    override readonly cause: unknown
  ) {
    super('the connection to PostgreSQL broke before the commit was confirmed')
    this.name = 'CommitInDoubt'
  }
}

/** Whether a failed write may still have committed: the session ended, not the statement. */
export function mayHaveCommitted(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    // PostgreSQL answered with an error, so the statement's implicit transaction rolled back, unless
    // the error announces the session's end: 08 connection, 57P shutdown or crash, 58 system, XX internal.
    return /^(08|57P|58|XX)/.test(code)
  }
  // The driver refused to send on a connection it already knew was dead: nothing reached the server.
  if (err instanceof Error && err.message.includes('not queryable')) return false
  // No answer at all: the socket closed or reset, or the client's own timeout fired.
  return true
}

export type Settled<T> = { outcome: 'committed'; row: T } | { outcome: 'rolled back' } | { outcome: 'unknown' }

/**
 * Learns how a write in doubt ended. First its server process must be gone, so that it cannot
 * commit later: after a crash it already is; after a cut connection it may still run, and is ended.
 * Then `lookup` reads the receipt the write inserted: there if and only if the write committed.
 * While PostgreSQL cannot be reached this is retried, for `waitMs`; each query is bounded by the
 * time left, but waiting for a connection may add up to the pool's connection timeout.
 */
export async function settle<T>(
  pool: Pool,
  doubt: CommitInDoubt,
  lookup: (timeoutMs: number) => Promise<T | undefined>,
  waitMs: number
): Promise<Settled<T>> {
  const deadline = performance.now() + waitMs
  const left = () => Math.max(1, Math.round(deadline - performance.now()))
  for (;;) {
    try {
      if (await backendGone(pool, doubt.backendPid, left())) {
        const row = await lookup(left())
        return row === undefined ? { outcome: 'rolled back' } : { outcome: 'committed', row }
      }
    } catch {
      // PostgreSQL is still away or recovering: ask again shortly.
    }
    if (performance.now() >= deadline) return { outcome: 'unknown' }
    await sleep(Math.min(RETRY_MS, left()))
  }
}

/** Ends the backend `pid` if it still runs (any role may end its own sessions); true once it is gone. */
async function backendGone(pool: Pool, pid: number | null, timeoutMs: number): Promise<boolean> {
  if (pid === null) return true // never connected, so it never ran
  // pg_terminate_backend(pid, timeout) waits until the process has exited (PostgreSQL 14+).
  const rows = await boundedQuery<{ ended: boolean }>(
    pool,
    'SELECT pg_terminate_backend(pid, $2) AS ended FROM pg_stat_activity WHERE pid = $1',
    [pid, Math.min(1000, timeoutMs)],
    timeoutMs + 100
  )
  return rows.length === 0 || rows[0]?.ended === true
}

/** A query whose client-side timeout is `timeoutMs` instead of the pool's (the driver's types omit it). */
export async function boundedQuery<R extends object>(
  pool: Pool,
  text: string,
  values: unknown[],
  timeoutMs: number
): Promise<R[]> {
  const config = { text, values, query_timeout: timeoutMs }
  return (await pool.query<R>(config as { text: string; values: unknown[] })).rows
}
