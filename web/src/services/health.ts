import type { Redis } from 'ioredis'
import type { ProbeRepository } from '../db/repositories/probes.js'
import { failureReason, guard } from '../dependency-failure.js'
import { round } from './latency.js'
import type { NearCache } from '../cache/near-cache.js'

export interface ServiceCheck {
  status: 'up' | 'down'
  latency_ms: number
  version: string | null
  error?: string
}

/**
 * Live checks of PostgreSQL and Redis, each timed.
 *
 * Callers that ask while a check is in flight share it rather than start another: under load,
 * health probes then cost one round trip per dependency at a time, not one per request, and every
 * answer still comes from a check that completed after the caller asked.
 */
export class HealthService {
  private dbVersion: string | null = null
  private cacheVersion: string | null = null
  private dbInFlight: Promise<ServiceCheck> | undefined
  private cacheInFlight: Promise<ServiceCheck> | undefined

  constructor(
    private readonly probes: ProbeRepository,
    private readonly redis: Redis,
    private readonly near: NearCache
  ) {}

  /** This process's near cache: whether it serves copies, and how many reads it answered. */
  nearCache() {
    const { enabled, active, entries } = this.near
    const { hits, misses } = this.near.stats
    const ratio = hits + misses === 0 ? null : Math.round((hits / (hits + misses)) * 1000) / 1000
    return { enabled, tracking: active, hits, misses, hit_ratio: ratio, entries }
  }

  /** One round trip to PostgreSQL for the /db probe: its clock and version, timed. */
  async roundTrip(): Promise<{ time: Date; version: string; latency_ms: number }> {
    const started = performance.now()
    const row = await guard('db', () => this.probes.clockAndVersion())
    if (row === undefined) throw new Error('no row from PostgreSQL')
    return { ...row, latency_ms: round(performance.now() - started) }
  }

  db(): Promise<ServiceCheck> {
    this.dbInFlight ??= this.checkDb().finally(() => {
      this.dbInFlight = undefined
    })
    return this.dbInFlight
  }

  cache(): Promise<ServiceCheck> {
    this.cacheInFlight ??= this.checkCache().finally(() => {
      this.cacheInFlight = undefined
    })
    return this.cacheInFlight
  }

  private async checkDb(): Promise<ServiceCheck> {
    const started = performance.now()
    try {
      if (this.dbVersion === null) {
        this.dbVersion = await this.probes.serverVersion()
      } else {
        await this.probes.ping()
      }
      return { status: 'up', latency_ms: round(performance.now() - started), version: this.dbVersion }
    } catch (err) {
      return {
        status: 'down',
        latency_ms: round(performance.now() - started),
        version: this.dbVersion,
        error: failureReason(err, 'client')
      }
    }
  }

  private async checkCache(): Promise<ServiceCheck> {
    const started = performance.now()
    try {
      if (this.cacheVersion === null) {
        const info = await this.redis.info('server')
        this.cacheVersion = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? null
      } else {
        await this.redis.ping()
      }
      return { status: 'up', latency_ms: round(performance.now() - started), version: this.cacheVersion }
    } catch (err) {
      return {
        status: 'down',
        latency_ms: round(performance.now() - started),
        version: this.cacheVersion,
        error: failureReason(err, 'client')
      }
    }
  }
}
