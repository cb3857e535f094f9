import type { Redis } from 'ioredis'
import { visitCounterKey } from '../cache/keyspace.js'
import type { VisitRepository } from '../db/repositories/visits.js'
import { guard } from '../dependency-failure.js'
import type { Metrics } from '../metrics.js'
import type { StaleKeys } from '../cache/stale-keys.js'
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

export interface RecordedVisit {
  /** This visit's number: the total right after it was committed. */
  visits: number
  dbTime: Date
  /** Whether the cached total was brought up to date. */
  cached: boolean
}

interface Waiter {
  resolve: (visit: RecordedVisit) => void
  reject: (err: unknown) => void
}

export interface VisitServiceOptions {
  ttlS: number
  /** Largest number of visits committed in one transaction. */
  maxBatch?: number
  /** Transactions allowed in flight at once; the next batch queues behind the row lock. */
  maxInFlight?: number
  /** In-process copies of the cached total, kept coherent by Redis's invalidations. */
  near: NearCache
}

/**
 * Counts visits with group commit: visits that arrive while a transaction is in flight wait and
 * are committed together in the next one. Each caller is answered only after its own visit is
 * committed, so an acknowledged visit is durable, and a failed batch is rolled back whole, so a
 * visit that got an error was not counted.
 */
export class VisitService {
  private readonly queue: Waiter[] = []
  /** Transactions in flight: bounded by maxInFlight. */
  private inFlight = 0
  /** Batches not yet answered: their transaction, then their cache update. */
  private unanswered = 0
  private readonly idleWaiters: Array<() => void> = []
  private readonly maxBatch: number
  private readonly maxInFlight: number

  constructor(
    private readonly repository: VisitRepository,
    private readonly redis: Redis,
    private readonly metrics: Metrics,
    private readonly stale: StaleKeys,
    private readonly options: VisitServiceOptions,
    private readonly label = HOMEPAGE
  ) {
    this.maxBatch = options.maxBatch ?? 512
    this.maxInFlight = options.maxInFlight ?? 2
  }

  record(): Promise<RecordedVisit> {
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject })
      this.flush()
    })
  }

  /** Resolves once every visit handed to record() has been answered. */
  drain(): Promise<void> {
    if (this.unanswered === 0 && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch)
      this.inFlight++
      this.unanswered++
      // The slot is given back as soon as the transaction settles, not after the cache update:
      // a Redis that hangs then delays each visit by one command timeout, not by a queue of them.
      let released = false
      const release = () => {
        if (released) return
        released = true
        this.inFlight--
        this.flush()
      }
      void this.commit(batch, release).finally(() => {
        release()
        this.unanswered--
        if (this.unanswered === 0 && this.queue.length === 0) this.idleWaiters.splice(0).forEach((done) => done())
      })
    }
  }

  private async commit(batch: Waiter[], committed: () => void): Promise<void> {
    let total: number
    let dbTime: Date
    try {
      const row = await guard('db', () => this.repository.record(this.label, batch.length))
      total = row.total
      dbTime = row.db_time
    } catch (err) {
      for (const waiter of batch) waiter.reject(err)
      return
    } finally {
      committed()
    }
    this.metrics.visitsRecorded.inc(batch.length)
    this.metrics.visitBatchSize.observe(batch.length)
    const cached = await this.cacheTotal(total)
    const first = total - batch.length + 1
    batch.forEach((waiter, i) => waiter.resolve({ visits: first + i, dbTime, cached }))
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
        if (copy !== null) {
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
