import { Counter, Gauge, type Registry, type RegistryContentType } from 'prom-client'
import type { NearCache } from './near-cache.js'

/**
 * The near cache's figures, read from its plain counters when Prometheus scrapes, so a hit costs
 * no metric update on the request's path.
 */
export function registerNearCacheMetrics(registry: Registry<RegistryContentType>, near: NearCache): void {
  const reported = { hit: 0, miss: 0, bypass: 0, invalidations: 0 }
  new Counter({
    name: 'near_cache_lookups_total',
    help: 'Reads through the in-process near cache by result: hit (served locally), miss (read from Redis), bypass (near cache off or not tracking)',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      const { hits, misses, bypassed } = near.stats
      this.inc({ result: 'hit' }, hits - reported.hit)
      this.inc({ result: 'miss' }, misses - reported.miss)
      this.inc({ result: 'bypass' }, bypassed - reported.bypass)
      Object.assign(reported, { hit: hits, miss: misses, bypass: bypassed })
    }
  })
  new Counter({
    name: 'near_cache_invalidations_total',
    help: 'Invalidation messages from Redis (and lost connections) applied to the near cache',
    registers: [registry],
    collect() {
      this.inc(near.stats.invalidations - reported.invalidations)
      reported.invalidations = near.stats.invalidations
    }
  })
  new Gauge({
    name: 'near_cache_hit_ratio',
    help: 'Share of near cache lookups served locally since start (hits / (hits + misses))',
    registers: [registry],
    collect() {
      const { hits, misses } = near.stats
      this.set(hits + misses === 0 ? 0 : hits / (hits + misses))
    }
  })
  new Gauge({
    name: 'near_cache_entries',
    help: 'Copies held by the near cache',
    registers: [registry],
    collect() {
      this.set(near.entries)
    }
  })
  new Gauge({
    name: 'near_cache_bytes',
    help: 'Estimated memory of the copies held by the near cache',
    registers: [registry],
    collect() {
      this.set(near.bytes)
    }
  })
  new Gauge({
    name: 'near_cache_tracking',
    help: '1 while Redis invalidation tracking is on and local copies are served, else 0',
    registers: [registry],
    collect() {
      this.set(near.active ? 1 : 0)
    }
  })
}
