/**
 * Load generator, run as its own process so it does not share an event loop with the
 * orchestrator: receives one job over IPC, runs a warm-up and then the measured run with
 * autocannon, and sends back the measured result. With several URLs (service replicas), one
 * autocannon instance per URL, the connections split between them, all started together; their
 * results are merged into one.
 */
import autocannon from 'autocannon'

export interface LoadJob {
  /** One per server process under load; the connections are split between them. */
  urls: string[]
  method: 'GET' | 'POST'
  body?: string
  headers?: Record<string, string>
  connections: number
  durationS: number
  warmupS: number
}

export interface LoadResult {
  requestsPerS: number
  /** Each URL's share of requestsPerS, in the job's order: shows that every replica took load. */
  requestsPerSByUrl: number[]
  totalRequests: number
  ok2xx: number
  non2xx: number
  errors: number
  timeouts: number
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number }
  warmup2xx: number
  durationS: number
  /** CPU seconds this process used during the measured run. */
  cpuS: number
}

/** As even as possible: 32 over 3 is 11, 11, 10. */
function splitConnections(connections: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(connections / parts) + (i < connections % parts ? 1 : 0))
}

function runAll(job: LoadJob, durationS: number): Promise<autocannon.Result[]> {
  const shares = splitConnections(job.connections, job.urls.length)
  return Promise.all(
    job.urls.map((url, i) =>
      autocannon({
        url,
        method: job.method,
        body: job.body,
        headers: job.headers,
        connections: shares[i] ?? 0,
        duration: durationS,
        timeout: 10
      })
    )
  )
}

const sum = (results: autocannon.Result[], value: (r: autocannon.Result) => number): number =>
  results.reduce((n, r) => n + value(r), 0)
const worst = (results: autocannon.Result[], value: (r: autocannon.Result) => number): number =>
  Math.max(...results.map(value))

/**
 * Throughput and counts add up over the instances. Percentiles cannot be merged from autocannon's
 * summaries, so each is the worst instance's: never better than the truth.
 */
function merge(measured: autocannon.Result[], warm: autocannon.Result[], cpuS: number): LoadResult {
  const total = sum(measured, (r) => r.requests.total)
  return {
    requestsPerS: sum(measured, (r) => r.requests.average),
    requestsPerSByUrl: measured.map((r) => r.requests.average),
    totalRequests: total,
    ok2xx: sum(measured, (r) => r['2xx']),
    non2xx: sum(measured, (r) => r.non2xx),
    errors: sum(measured, (r) => r.errors),
    timeouts: sum(measured, (r) => r.timeouts),
    latencyMs: {
      p50: worst(measured, (r) => r.latency.p50),
      p90: worst(measured, (r) => r.latency.p90),
      p99: worst(measured, (r) => r.latency.p99),
      max: worst(measured, (r) => r.latency.max),
      mean: total === 0 ? 0 : sum(measured, (r) => r.latency.average * r.requests.total) / total
    },
    warmup2xx: sum(warm, (r) => r['2xx']),
    durationS: worst(measured, (r) => r.duration),
    cpuS
  }
}

process.once('message', (message: LoadJob) => {
  void (async () => {
    try {
      const warm = message.warmupS > 0 ? await runAll(message, message.warmupS) : []
      const cpuBefore = process.cpuUsage()
      const measured = await runAll(message, message.durationS)
      const cpu = process.cpuUsage(cpuBefore)
      process.send?.({ result: merge(measured, warm, (cpu.user + cpu.system) / 1e6) }, () => process.exit(0))
    } catch (err) {
      process.send?.({ error: err instanceof Error ? err.message : String(err) }, () => process.exit(1))
    }
  })()
})
