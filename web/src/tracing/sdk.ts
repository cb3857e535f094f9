/**
 * The OpenTelemetry SDK, loaded only when tracing is configured (see load.ts): a tracer provider
 * with a bounded batch processor and an OTLP/HTTP exporter, plus the pg and ioredis
 * instrumentations. It must run before the drivers are imported, so that they are patched.
 */
import { register } from 'node:module'
import { context, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler
} from '@opentelemetry/sdk-trace'
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions'
import type { TracingConfig } from '../config/tracing.js'
import { BoundedSpanQueue, CountingExporter, type DroppedSpans } from './bounded-queue.js'
import { groupCommitTracer, requestTracing } from './fastify.js'
import type { GroupCommitTracer } from './hooks.js'
import { traceRefusedRedisCommands } from './redis-offline.js'
import type { Redis } from 'ioredis'

export interface Tracing {
  config: TracingConfig
  dropped: DroppedSpans
  /** The Fastify plugin: request spans, the trace id header, exemplars, the dropped-span counter. */
  plugin: ReturnType<typeof requestTracing>
  groupCommit: GroupCommitTracer
  /** Records commands refused while Redis is away, which the instrumentation cannot see end. */
  watchRedis(redis: Redis): void
  /** pino mixin: the trace and span a log line is written in. */
  logFields(): object
  /** Exports what is queued (bounded by the export timeout) and stops. */
  shutdown(): Promise<void>
}

function sampler(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.ratio)
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler()
    case 'always_off':
      return new AlwaysOffSampler()
    case 'traceidratio':
      return ratio
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio })
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() })
  }
}

async function exporter(config: TracingConfig) {
  // concurrencyLimit: a slow collector holds at most two batches in flight; the rest waits in the
  // bounded queue or is dropped, never piles up in memory.
  const options = { url: config.url, timeoutMillis: config.exportTimeoutMs, concurrencyLimit: 2 }
  if (config.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    return new OTLPTraceExporter(options)
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto')
  return new OTLPTraceExporter(options)
}

export async function startTracing(config: TracingConfig): Promise<Tracing> {
  // ioredis is imported from ES modules, which require-in-the-middle cannot see: this loader hook
  // lets the ioredis instrumentation patch it. Limited to ioredis, so no other module is wrapped.
  // pg needs no hook: the instrumentation patches pg/lib/client.js, which pg itself requires.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['ioredis'] } })

  const dropped: DroppedSpans = { queueFull: 0, exportFailed: 0 }
  const counting = new CountingExporter(await exporter(config), dropped)
  const queue = new BoundedSpanQueue(counting, config, dropped)
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }).merge(
    detectResources({ detectors: [envDetector] })
  )
  const provider = new TracerProvider({ resource, sampler: sampler(config), spanProcessors: [queue] })
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  trace.setGlobalTracerProvider(provider)
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Statement text only: values stay out of spans (enhancedDatabaseReporting is off by default).
      new PgInstrumentation({ requireParentSpan: true }),
      // The command's name only: keys can be a client's words (the key/value API), values always are.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command })
    ]
  })
  return {
    config,
    dropped,
    plugin: requestTracing(provider, dropped),
    groupCommit: groupCommitTracer(provider),
    watchRedis: (redis) => traceRefusedRedisCommands(redis, provider),
    logFields() {
      const ids = trace.getActiveSpan()?.spanContext()
      return ids === undefined ? {} : { trace_id: ids.traceId, span_id: ids.spanId }
    },
    shutdown: () => provider.shutdown()
  }
}
