import type { FastifyBaseLogger } from 'fastify'
import type { VisitRepository } from '../db/repositories/visits.js'

const BATCH = 5000
/** Receipts of committed batches are read only in the seconds after a broken connection. */
const RECEIPT_KEEP_S = 300
/**
 * The log is pruned at most this often, although receipts are pruned at every run: each log run
 * reads up to BATCH of the oldest rows even when none is old enough.
 */
const LOG_EVERY_MS = 60 * 60 * 1000
/** Batches per run: a backlog (the first run on a big log) is worked off over several runs. */
const MAX_BATCHES = 200

/**
 * Keeps the visit log to the last `days` days (the total lives in visit_counter and never changes),
 * and the receipts of committed batches to the last few minutes.
 * Every replica may prune: deletes of the same rows by two replicas are harmless (the second finds
 * them gone), and each batch is one short statement.
 */
export class VisitRetention {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<number> | undefined
  private logDueAt = 0

  constructor(
    private readonly repository: VisitRepository,
    private readonly days: number,
    private readonly log: FastifyBaseLogger
  ) {}

  /** Prunes now and then every `intervalMs`: receipts each time, the log once an hour. */
  start(intervalMs: number): void {
    if (this.timer !== undefined) return
    const run = () => {
      const logDue = performance.now() >= this.logDueAt
      if (logDue) this.logDueAt = performance.now() + LOG_EVERY_MS
      void this.prune(logDue).catch((err: unknown) => this.log.warn({ err }, 'visit log or receipt pruning failed'))
    }
    setImmediate(run)
    this.timer = setInterval(run, intervalMs).unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.running?.catch(() => undefined)
  }

  /**
   * One run: old receipts, then (with `log`) batches until the oldest log rows are within the
   * retention. Returns the log rows deleted.
   */
  prune(log = true): Promise<number> {
    this.running ??= this.pruneBatches(log).finally(() => (this.running = undefined))
    return this.running
  }

  private async pruneBatches(log: boolean): Promise<number> {
    await this.repository.pruneReceipts(RECEIPT_KEEP_S)
    if (!log || this.days <= 0) return 0
    let deleted = 0
    for (let i = 0; i < MAX_BATCHES; i++) {
      const n = await this.repository.pruneOlderThan(this.days, BATCH)
      deleted += n
      if (n < BATCH) break
    }
    if (deleted > 0) this.log.info({ deleted, retention_days: this.days }, 'pruned old rows of the visit log')
    return deleted
  }
}
