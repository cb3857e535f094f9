/**
 * What the service's own code asks of tracing. Only types: code that uses them imports nothing of
 * OpenTelemetry, and with tracing off none of them is called.
 */

/** How a cache-aside read was decided; `stale` means the cache was not asked (its copy is distrusted). */
export type CacheDecision = 'hit' | 'miss' | 'error' | 'stale'

/** Spans for a group commit: one per batch, linked to the requests whose work it carried. */
export interface GroupCommitTracer {
  /** The caller's trace, taken when its work joins the queue. */
  capture(): unknown
  /** Runs one batch in a span named `name`, linked to the captured callers. */
  run<T>(name: string, captured: unknown[], fn: () => Promise<T>): Promise<T>
}

/** Labels of an OpenMetrics exemplar: the trace a histogram sample was taken in. */
export type ExemplarLabels = Record<'trace_id' | 'span_id', string>

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when tracing is on and the request's trace is sampled. */
    traceExemplar: ExemplarLabels | undefined
  }
}
