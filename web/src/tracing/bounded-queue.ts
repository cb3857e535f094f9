import { TraceFlags, type Context } from '@opentelemetry/api'
import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor
} from '@opentelemetry/sdk-trace'
import type { TracingConfig } from '../config/tracing.js'

/** Spans lost on the way to the collector, by cause; /metrics shows them. */
export interface DroppedSpans {
  /** The queue was full: the collector is slower than the traffic, or away. */
  queueFull: number
  /** The collector refused, failed or did not answer within the export timeout. */
  exportFailed: number
}

/** Counts the spans of every export that did not succeed. */
export class CountingExporter implements SpanExporter {
  /** Spans handed to export() so far: they have left the batch processor's queue. */
  taken = 0

  constructor(
    private readonly inner: SpanExporter,
    private readonly dropped: DroppedSpans
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.taken += spans.length
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.dropped.exportFailed += spans.length
      done(result)
    })
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve()
  }
}

/**
 * The SDK's batch processor, with its queue length known: a span that would exceed maxQueueSize is
 * dropped here and counted (the processor would drop it too, but only tells a debug log).
 */
export class BoundedSpanQueue implements SpanProcessor {
  private readonly batch: BatchSpanProcessor
  private handed = 0

  constructor(
    private readonly exporter: CountingExporter,
    private readonly config: TracingConfig,
    private readonly dropped: DroppedSpans
  ) {
    this.batch = new BatchSpanProcessor({
      exporter,
      maxQueueSize: config.maxQueueSize,
      maxExportBatchSize: config.maxExportBatchSize,
      scheduledDelayMillis: config.scheduleDelayMs,
      exportTimeoutMillis: config.exportTimeoutMs
    })
  }

  onStart(span: Span, parentContext: Context): void {
    this.batch.onStart(span, parentContext)
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return
    if (this.handed - this.exporter.taken >= this.config.maxQueueSize) {
      this.dropped.queueFull++
      return
    }
    this.handed++
    this.batch.onEnd(span)
  }

  forceFlush(): Promise<void> {
    return this.batch.forceFlush()
  }

  shutdown(): Promise<void> {
    return this.batch.shutdown()
  }
}
