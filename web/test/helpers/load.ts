/**
 * A small, bounded load generator for the hardening tests: a fixed number of keep-alive
 * connections to 127.0.0.1, each sending one request at a time, until a request count or a
 * deadline is reached. Every request's outcome is recorded, so tests can count exactly.
 */
import http from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'

export interface RequestSpec {
  method?: string
  path: string
  json?: unknown
  headers?: Record<string, string>
}

export interface Outcome {
  spec: RequestSpec
  /** HTTP status, or 0 when no response arrived (connection refused, reset, client timeout). */
  status: number
  body: string
  /** Error code or message when status is 0. */
  error?: string
  /** performance.now() when the request was sent, and how long it took. */
  sentAt: number
  ms: number
}

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:1234 */
  url: string
  connections: number
  /** Stop after this many requests in all (one of amount / durationMs is required). */
  amount?: number
  durationMs?: number
  /** The n-th request to send (n counts from 0 across all connections). */
  next: (n: number) => RequestSpec
  /** Called with every outcome; keep what the test needs. */
  onOutcome?: (outcome: Outcome) => void
  /** Client-side limit per request; a request that takes longer counts as an error. */
  timeoutMs?: number
  /** Reuse connections (default true). */
  keepAlive?: boolean
  /** Pause each connection this long between its requests (default 0: back to back). */
  gapMs?: number
}

export interface LoadStats {
  sent: number
  byStatus: Record<string, number>
  ok: number
  clientErrors: number
  serverErrors: number
  /** Requests with no HTTP response, by error code. */
  failures: Record<string, number>
  maxMs: number
  p50Ms: number
  p99Ms: number
  elapsedMs: number
}

export function send(agent: http.Agent, base: URL, spec: RequestSpec, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const sentAt = performance.now()
    const payload = spec.json === undefined ? undefined : Buffer.from(JSON.stringify(spec.json))
    const headers: Record<string, string | number> = { ...(spec.headers ?? {}) }
    if (payload !== undefined) {
      headers['content-type'] ??= 'application/json'
      headers['content-length'] = payload.length
    }
    let settled = false
    const finish = (status: number, body: string, error?: string) => {
      if (settled) return
      settled = true
      resolve({ spec, status, body, error, sentAt, ms: performance.now() - sentAt })
    }
    const req = http.request(
      { host: base.hostname, port: base.port, method: spec.method ?? 'GET', path: spec.path, agent, headers },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => finish(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')))
        res.on('error', (err: NodeJS.ErrnoException) => finish(0, '', err.code ?? err.message))
      }
    )
    req.setTimeout(timeoutMs, () =>
      req.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'CLIENT_TIMEOUT' }))
    )
    req.on('error', (err: NodeJS.ErrnoException) => finish(0, '', err.code ?? err.message))
    req.end(payload)
  })
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]
}

const running = new Set<Load>()

/** Stops every load still running (for after() hooks: a failed test must not leave one behind). */
export async function stopAllLoads(): Promise<void> {
  await Promise.all([...running].map((load) => load.stop()))
}

export class Load {
  readonly done: Promise<LoadStats>
  private stopped = false
  private issued = 0
  private readonly latencies: number[] = []
  readonly stats: LoadStats = {
    sent: 0,
    byStatus: {},
    ok: 0,
    clientErrors: 0,
    serverErrors: 0,
    failures: {},
    maxMs: 0,
    p50Ms: 0,
    p99Ms: 0,
    elapsedMs: 0
  }

  constructor(private readonly options: LoadOptions) {
    if (options.amount === undefined && options.durationMs === undefined)
      throw new Error('a load needs amount or durationMs')
    running.add(this)
    this.done = this.run().finally(() => running.delete(this))
  }

  /** Ends the load after the requests in flight. */
  stop(): Promise<LoadStats> {
    this.stopped = true
    return this.done
  }

  private async run(): Promise<LoadStats> {
    const {
      url,
      connections,
      amount,
      durationMs,
      next,
      onOutcome,
      timeoutMs = 30_000,
      keepAlive = true,
      gapMs = 0
    } = this.options
    const base = new URL(url)
    const agent = new http.Agent({ keepAlive, maxSockets: connections })
    const started = performance.now()
    const deadline = durationMs === undefined ? Infinity : started + durationMs
    const worker = async () => {
      while (!this.stopped && (amount === undefined || this.issued < amount) && performance.now() < deadline) {
        const spec = next(this.issued++)
        const outcome = await send(agent, base, spec, timeoutMs)
        this.record(outcome)
        onOutcome?.(outcome)
        if (gapMs > 0) await sleep(gapMs)
      }
    }
    await Promise.all(Array.from({ length: connections }, worker))
    agent.destroy()
    this.stats.elapsedMs = Math.round(performance.now() - started)
    const sorted = [...this.latencies].sort((a, b) => a - b)
    this.stats.p50Ms = Math.round(percentile(sorted, 0.5))
    this.stats.p99Ms = Math.round(percentile(sorted, 0.99))
    return this.stats
  }

  private record(outcome: Outcome): void {
    const s = this.stats
    s.sent++
    this.latencies.push(outcome.ms)
    s.maxMs = Math.max(s.maxMs, Math.round(outcome.ms))
    if (outcome.status === 0) {
      const code = outcome.error ?? 'unknown'
      s.failures[code] = (s.failures[code] ?? 0) + 1
      return
    }
    s.byStatus[outcome.status] = (s.byStatus[outcome.status] ?? 0) + 1
    if (outcome.status >= 200 && outcome.status < 300) s.ok++
    else if (outcome.status >= 500) s.serverErrors++
    else if (outcome.status >= 400) s.clientErrors++
  }
}

/** One line of figures for the test output. */
export function describeStats(name: string, s: LoadStats): string {
  return (
    `${name}: sent ${s.sent} in ${s.elapsedMs} ms, 2xx ${s.ok}, 4xx ${s.clientErrors}, 5xx ${s.serverErrors}, ` +
    `no response ${Object.values(s.failures).reduce((a, b) => a + b, 0)} ${JSON.stringify(s.failures)}, ` +
    `statuses ${JSON.stringify(s.byStatus)}, latency p50 ${s.p50Ms} ms p99 ${s.p99Ms} ms max ${s.maxMs} ms`
  )
}
