import type { Redis } from 'ioredis'
import { visitCounterKey } from '../cache/keyspace.js'
import type { FastifyBaseLogger } from 'fastify'
import type { RecordedBatch, VisitRepository } from '../db/repositories/visits.js'
import { CommitInDoubt } from '../db/commit-in-doubt.js'
import { DependencyError, commitOutcomeUnknown, guard } from '../dependency-failure.js'
import { GroupCommit } from '../lib/group-commit.js'
import type { Metrics } from '../metrics.js'
import type { StaleKeys } from '../cache/stale-keys.js'
import type { GroupCommitTracer } from '../tracing/hooks.js'
import type { NearCache } from '../cache/near-cache.js'

export const HOMEPAGE = 'homepage'

// Totals only grow, so the larger value is always the newer one: racing writers and slow
// cache fills can never leave an older total behind.
const SET_IF_GREATER = `
local current = tonumber(redis.call('GET', KEYS[1]))
if current == nil or current < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0`

const COUNT = /^\d{1,15}$/

export interface RecordedVisit {
  /** This visit's number: the total right after it was committed. */
  visits: number
  dbTime: Date
  /** Whether the cached total was brought up to date. */
  cached: boolean
}

export interface VisitServiceOptions {
  ttlS: number
  /** Largest number of visits committed in one transaction. */
  maxBatch?: number
  /** Transactions allowed in flight at once; the next batch queues behind the row lock. */
  maxInFlight?: number
  /** With tracing on: a span per batch, linked to the requests it answers. */
  groupCommit?: GroupCommitTracer
  /** In-process copies of the cached total, kept coherent by Redis's invalidations. */
  near: NearCache
  /** How long a batch whose connection broke during the commit waits to learn whether it committed. */
  inDoubtWaitMs: number
  log: FastifyBaseLogger
}

/**
 * Counts visits with group commit (one transaction for the visits that arrive while another is in
 * flight): an acknowledged visit is durable, and a visit that got an error was not counted.
 */
export class VisitService {
  /**
   * Each item is its caller's trace (undefined with tracing off): the batch's span links to it. A
   * write in doubt is settled in the answer step, so it does not hold a write slot meanwhile.
   */
  private readonly commits: GroupCommit<unknown, RecordedBatch | CommitInDoubt, RecordedVisit>

  constructor(
    private readonly repository: VisitRepository,
    private readonly redis: Redis,
    private readonly metrics: Metrics,
    private readonly stale: StaleKeys,
    private readonly options: VisitServiceOptions,
    private readonly label = HOMEPAGE
  ) {
    this.commits = new GroupCommit({
      maxBatch: options.maxBatch ?? 512,
      // One: every batch updates the one counter row, so a second transaction in flight would only
      // wait for its lock, and its visits a whole commit longer. One at a time, the visits that
      // arrive during a commit make the next batch, larger, and the statement and the Redis update
      // are paid fewer times per visit (docs/benchmarks.md, "Durable visit").
      maxInFlight: options.maxInFlight ?? 1,
      write: (batch) => {
        const write = () =>
          guard('db', () =>
            this.repository.record(this.label, batch.length).catch((err: unknown) => {
              if (err instanceof CommitInDoubt) return err
              throw err
            })
          )
        const tracer = options.groupCommit
        return tracer ? tracer.run('visits group commit', [...batch], write) : write()
      },
      // The cache update runs after the transaction's slot is given back: a Redis that hangs then
      // delays each visit by one command timeout, not by a queue of them.
      answer: async (batch, written) => {
        const { total, db_time: dbTime } =
          written instanceof CommitInDoubt ? await this.settle(written, batch.length) : written
        this.metrics.visitsRecorded.inc(batch.length)
        this.metrics.visitBatchSize.observe(batch.length)
        const cached = await this.cacheTotal(total)
        const first = total - batch.length + 1
        return batch.map((_, i) => ({ visits: first + i, dbTime, cached }))
      }
    })
  }

  record(): Promise<RecordedVisit> {
    return this.commits.enqueue(this.options.groupCommit?.capture())
  }

  /** Resolves once every visit handed to record() has been answered. */
  drain(): Promise<void> {
    return this.commits.drain()
  }

  /** The batch's row if it committed; else the error its visits get (none of them was counted, or unknown). */
  private async settle(doubt: CommitInDoubt, visits: number): Promise<RecordedBatch> {
    const settled = await this.repository.settle(doubt, this.options.inDoubtWaitMs)
    this.metrics.visitCommitsInDoubt.inc({ outcome: settled.outcome })
    this.options.log.warn(
      { visits, outcome: settled.outcome, receipt: doubt.receipt, err: doubt.cause },
      'the connection to PostgreSQL broke during a commit of visits; its receipt tells how it ended'
    )
    if (settled.outcome === 'committed') return settled.row
    if (settled.outcome === 'rolled back') throw new DependencyError('db', doubt.cause)
    throw commitOutcomeUnknown()
  }

  private async cacheTotal(total: number): Promise<boolean> {
    const key = visitCounterKey(this.label)
    try {
      await this.redis.eval(SET_IF_GREATER, 1, key, total, this.options.ttlS)
      return true
    } catch {
      // The database has the visit; a cached total that could not be raised must not be trusted later.
      this.stale.mark(key)
      return false
    }
  }

  /** The total without counting, cache-aside: Redis first, PostgreSQL on a miss, then fill. */
  async total(): Promise<{ label: string; total: number; cached: boolean }> {
    const key = visitCounterKey(this.label)
    if (!this.stale.has(key)) {
      try {
        const { copy } = await this.options.near.read(key, '', async () => {
          const text = await this.redis.get(key)
          return text === null ? null : { text }
        })
        // Anything but a count (a value put straight into Redis) is a miss, replaced by the fill below.
        if (copy !== null && COUNT.test(copy.text)) {
          this.metrics.cacheLookup('visits', 'hit')
          return { label: this.label, total: Number(copy.text), cached: true }
        }
        this.metrics.cacheLookup('visits', 'miss')
      } catch {
        this.metrics.cacheLookup('visits', 'error')
      }
    }
    const total = await guard('db', () => this.repository.total(this.label))
    if (!this.stale.has(key)) this.redis.eval(SET_IF_GREATER, 1, key, total, this.options.ttlS).catch(() => undefined)
    return { label: this.label, total, cached: false }
  }

  recent(limit: number): Promise<Array<{ id: number; visited_at: Date }>> {
    return guard('db', () => this.repository.recent(this.label, limit))
  }
}
