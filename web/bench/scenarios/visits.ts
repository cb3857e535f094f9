// The visit route must stay exact under load: every acknowledged visit in the counter and the log.
import { setTimeout as sleep } from 'node:timers/promises'
import { log } from '../log.js'
import type { LoadResult } from '../processes/load-generator.js'
import type { PgServer } from '../servers.js'

export interface VisitState {
  counter: number
  logged: number
}

export interface VisitCheck {
  phase: string
  acknowledged: number
  committed: number
  logged: number
  exact: boolean
}

export async function visitState(pg: PgServer): Promise<VisitState> {
  const [row] = await pg.query<{ counter: string; logged: string }>(
    "SELECT (SELECT total FROM visit_counter WHERE label = 'homepage') AS counter, (SELECT count(*) FROM visits WHERE label = 'homepage') AS logged"
  )
  return { counter: Number(row?.counter ?? 0), logged: Number(row?.logged ?? 0) }
}

/** Compares the counter and the log after a run with what the load generator saw acknowledged. */
export async function checkVisits(
  pg: PgServer,
  phase: string,
  before: VisitState,
  load: LoadResult,
  connections: number
): Promise<VisitCheck> {
  await sleep(1000) // let requests cut off at the end of the run finish
  const after = await visitState(pg)
  const acknowledged = load.warmup2xx + load.ok2xx
  const committed = after.counter - before.counter
  const logged = after.logged - before.logged
  // Requests in flight when autocannon stops are committed but never read: at most one per connection per run.
  const exact =
    committed === logged && committed >= acknowledged && committed <= acknowledged + 2 * connections + load.errors
  log(
    `${phase}: ${acknowledged} acknowledged, ${committed} committed to the counter, ${logged} log rows: ${exact ? 'exact' : 'MISMATCH'}`
  )
  return { phase, acknowledged, committed, logged, exact }
}

/** N logged visits straight into the log, and the counter raised by N, in one transaction. */
export async function preload(pg: PgServer, rows: number): Promise<void> {
  log(`preloading ${rows.toLocaleString('en-US')} logged visits`)
  const started = performance.now()
  await pg.query(`
    WITH log AS (
      INSERT INTO visits (label, visited_at)
      SELECT 'homepage', now() - make_interval(secs => g) FROM generate_series(${rows}, 1, -1) AS g
    )
    UPDATE visit_counter SET total = total + ${rows}, updated_at = now() WHERE label = 'homepage'`)
  // A bulk load leaves work for autovacuum and the checkpointer; do it now, not during the measurement.
  await pg.query('VACUUM (ANALYZE) visits')
  await pg.query('CHECKPOINT')
  log(`preloaded in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}
