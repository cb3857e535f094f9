import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** The service's Prometheus metrics, one registry per app so tests can build many apps. */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // Gauges must not end in _total (that suffix means a counter; promtool flags them). The same
  // figures remain, by type, in nodejs_active_handles, nodejs_active_requests, nodejs_active_resources.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name)
  }
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry]
  })
  const cacheLookups = new Counter({
    name: 'cache_lookups_total',
    help: 'Cache-aside lookups by cache and result (hit, miss, error)',
    labelNames: ['cache', 'result'] as const,
    registers: [registry]
  })
  const visitsRecorded = new Counter({
    name: 'visits_recorded_total',
    help: 'Visits committed to PostgreSQL',
    registers: [registry]
  })
  const visitBatchSize = new Histogram({
    name: 'visit_batch_size',
    help: 'Visits committed per PostgreSQL transaction (group commit)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry]
  })
  // Plain numbers beside the counters, so /health can report a hit ratio without an async scrape.
  const cacheTotals = { hits: 0, misses: 0 }
  return {
    registry,
    httpDuration,
    visitsRecorded,
    visitBatchSize,
    cacheTotals,
    cacheLookup(cache: string, result: 'hit' | 'miss' | 'error') {
      cacheLookups.inc({ cache, result })
      if (result === 'hit') cacheTotals.hits++
      else cacheTotals.misses++
    }
  }
}

export type Metrics = ReturnType<typeof createMetrics>
