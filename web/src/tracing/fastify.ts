import fp from 'fastify-plugin'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import {
  SpanStatusCode,
  TraceFlags,
  isSpanContextValid,
  trace,
  type SpanContext,
  type TracerProvider
} from '@opentelemetry/api'
import { Counter } from 'prom-client'
import type { Metrics } from '../metrics.js'
import type { DroppedSpans } from './bounded-queue.js'
import type { GroupCommitTracer } from './hooks.js'

export const TRACE_ID_HEADER = 'x-trace-id'

/** The HTTP side of tracing: a server span per request, named by its route template. */
export function requestTracing(provider: TracerProvider, dropped: DroppedSpans) {
  const instrumentation = new FastifyOtelInstrumentation({
    // One span per request, not one per hook and handler: the SQL and Redis spans are its children.
    instrumentHooks: false,
    instrumentHandler: false,
    requestHook: (span, request) => {
      // The template, never the raw URL: ids and keys in paths stay out of span names.
      const route = request.routeOptions.url
      span.updateName(route === undefined ? request.method : `${request.method} ${route}`)
    }
  })
  instrumentation.setTracerProvider(provider)

  return fp(
    async function tracing(app, { metrics }: { metrics: Metrics }) {
      await app.register(instrumentation.plugin())
      app.decorateRequest('traceExemplar', undefined)
      // Runs inside the request span's context: after the plugin's own onRequest hook.
      app.addHook('onRequest', (request, reply, done) => {
        const ids = request.opentelemetry().span?.spanContext()
        if (ids !== undefined && isSpanContextValid(ids)) {
          reply.header(TRACE_ID_HEADER, ids.traceId)
          if ((ids.traceFlags & TraceFlags.SAMPLED) !== 0)
            request.traceExemplar = { trace_id: ids.traceId, span_id: ids.spanId }
        }
        done()
      })
      metrics.onCacheDecision = (cache, decision) =>
        trace.getActiveSpan()?.setAttributes({ 'cache.name': cache, 'cache.decision': decision })
      new Counter({
        name: 'otel_spans_dropped_total',
        help: 'Finished spans not delivered to the collector: queue_full (collector slower than traffic) or export_failed',
        labelNames: ['reason'] as const,
        registers: [metrics.registry],
        collect() {
          this.reset()
          this.inc({ reason: 'queue_full' }, dropped.queueFull)
          this.inc({ reason: 'export_failed' }, dropped.exportFailed)
        }
      })
    },
    { name: 'tracing' }
  )
}

/** A span per group-commit batch, a root of its own, linked to each request it answers. */
export function groupCommitTracer(provider: TracerProvider): GroupCommitTracer {
  const tracer = provider.getTracer('web-db-cache')
  return {
    capture() {
      const ids = trace.getActiveSpan()?.spanContext()
      return ids !== undefined && isSpanContextValid(ids) ? ids : undefined
    },
    run(name, captured, fn) {
      const links = (captured as Array<SpanContext | undefined>)
        .filter((ids): ids is SpanContext => ids !== undefined)
        .map((ids) => ({ context: ids }))
      return tracer.startActiveSpan(
        name,
        { root: true, links, attributes: { 'batch.size': captured.length } },
        (span) =>
          fn().then(
            (result) => {
              span.end()
              return result
            },
            (err: unknown) => {
              span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) })
              span.end()
              throw err
            }
          )
      )
    }
  }
}
