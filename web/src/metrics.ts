import { Counter, Histogram, Registry, collectDefaultMetrics, type RegistryContentType } from 'prom-client'
import type { CacheDecision } from './tracing/hooks.js'

const LOOKUP_RESULTS = ['hit', 'miss', 'error'] as const
type LookupResult = (typeof LOOKUP_RESULTS)[number]

/** The service's Prometheus metrics, one registry per app so tests can build many apps. */
export function createMetrics(options: { exemplars?: boolean } = {}) {
  // prom-client takes exemplars only on an OpenMetrics registry; render() serves either format.
  const home: RegistryContentType = options.exemplars
    ? Registry.OPENMETRICS_CONTENT_TYPE
    : Registry.PROMETHEUS_CONTENT_TYPE
  const registry = new Registry<RegistryContentType>()
  registry.setContentType(home)
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
    // With tracing on, a sample taken in a sampled trace keeps its trace id (shown to OpenMetrics scrapers).
    enableExemplars: options.exemplars === true,
    registers: [registry]
  })
  // Counted in plain numbers on the request's path and handed to the counter when Prometheus
  // scrapes: an update by labels hashes them on every cached read.
  const pending = new Map<string, Record<LookupResult, number>>()
  new Counter({
    name: 'cache_lookups_total',
    help: 'Cache-aside lookups by cache and result (hit, miss, error)',
    labelNames: ['cache', 'result'] as const,
    registers: [registry],
    collect() {
      for (const [cache, counts] of pending) {
        for (const result of LOOKUP_RESULTS) {
          if (counts[result] > 0) this.inc({ cache, result }, counts[result])
          counts[result] = 0
        }
      }
    }
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
  const visitCommitsInDoubt = new Counter({
    name: 'visit_commits_in_doubt_total',
    help: 'Batches of visits whose connection broke during the commit, by what the receipt told (committed, rolled back, unknown)',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  // Plain numbers beside the counters, so /health can report a hit ratio without an async scrape.
  const cacheTotals = { hits: 0, misses: 0 }
  // One registry, two text formats: the format is switched for one scrape at a time.
  let scrapes: Promise<unknown> = Promise.resolve()
  const metrics = {
    registry,
    /** The exposition for a scrape: OpenMetrics (with exemplars) when the scraper asks for it. */
    render(openMetrics: boolean): Promise<{ contentType: string; text: string }> {
      const contentType = openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE
      const next = scrapes.then(async () => {
        registry.setContentType(contentType)
        try {
          return { contentType, text: await registry.metrics() }
        } finally {
          registry.setContentType(home)
        }
      })
      scrapes = next.catch(() => undefined)
      return next
    },
    httpDuration,
    visitsRecorded,
    visitBatchSize,
    visitCommitsInDoubt,
    cacheTotals,
    /** Set by tracing: records each cache-aside decision on the request's span. */
    onCacheDecision: undefined as ((cache: string, decision: CacheDecision) => void) | undefined,
    cacheLookup(cache: string, result: LookupResult) {
      let counts = pending.get(cache)
      if (counts === undefined) {
        counts = { hit: 0, miss: 0, error: 0 }
        pending.set(cache, counts)
      }
      counts[result]++
      if (result === 'hit') cacheTotals.hits++
      else cacheTotals.misses++
      metrics.onCacheDecision?.(cache, result)
    },
    /** The cache was not asked: its copy is marked stale until a write repairs it. */
    cacheBypassed(cache: string) {
      metrics.onCacheDecision?.(cache, 'stale')
    }
  }
  return metrics
}

export type Metrics = ReturnType<typeof createMetrics>
