/**
 * Load generator, run as its own process so it does not share an event loop with the
 * orchestrator: receives one job over IPC, runs a warm-up and then the measured run with
 * autocannon, and sends back the measured result.
 */
import autocannon from 'autocannon'

export interface LoadJob {
  url: string
  method: 'GET' | 'POST'
  body?: string
  headers?: Record<string, string>
  connections: number
  durationS: number
  warmupS: number
}

export interface LoadResult {
  requestsPerS: number
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

function run(job: LoadJob, durationS: number): Promise<autocannon.Result> {
  return autocannon({
    url: job.url,
    method: job.method,
    body: job.body,
    headers: job.headers,
    connections: job.connections,
    duration: durationS,
    timeout: 10
  })
}

process.once('message', (message: LoadJob) => {
  void (async () => {
    try {
      const warm = message.warmupS > 0 ? await run(message, message.warmupS) : undefined
      const cpuBefore = process.cpuUsage()
      const result = await run(message, message.durationS)
      const cpu = process.cpuUsage(cpuBefore)
      const out: LoadResult = {
        requestsPerS: result.requests.average,
        totalRequests: result.requests.total,
        ok2xx: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        latencyMs: {
          p50: result.latency.p50,
          p90: result.latency.p90,
          p99: result.latency.p99,
          max: result.latency.max,
          mean: result.latency.average
        },
        warmup2xx: warm?.['2xx'] ?? 0,
        durationS: result.duration,
        cpuS: (cpu.user + cpu.system) / 1e6
      }
      process.send?.({ result: out }, () => process.exit(0))
    } catch (err) {
      process.send?.({ error: err instanceof Error ? err.message : String(err) }, () => process.exit(1))
    }
  })()
})
