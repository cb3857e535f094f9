type Env = Record<string, string | undefined>

export type TracesSampler =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio'

const SAMPLERS: TracesSampler[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio'
]

/** OpenTelemetry tracing, read from the standard OTEL_* variables. */
export interface TracingConfig {
  /** Where spans are sent: the full URL of the OTLP/HTTP traces endpoint. */
  url: string
  protocol: 'http/protobuf' | 'http/json'
  serviceName: string
  sampler: TracesSampler
  /** Share of new traces kept by the ratio samplers, 0 to 1. */
  ratio: number
  /** Finished spans waiting for export; beyond it spans are dropped (and counted), never queued. */
  maxQueueSize: number
  maxExportBatchSize: number
  scheduleDelayMs: number
  /** How long one export may take, retries included, before its spans are given up. */
  exportTimeoutMs: number
}

function int(env: Env, name: string, fallback: number, min: number, max: number, fail: (m: string) => Error): number {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw fail(`${name} must be an integer, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw fail(`${name} must be between ${min} and ${max}, got ${value}`)
  return value
}

function tracesUrl(env: Env, fail: (m: string) => Error): string | undefined {
  // The signal-specific variable is used as given; the general one gets the traces path appended.
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()
  const general = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
  const [name, raw] = specific
    ? ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', specific]
    : ['OTEL_EXPORTER_OTLP_ENDPOINT', general]
  if (!raw) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw fail(`${name} is not a valid URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fail(`${name} must start with http:// or https://`)
  if (specific) return url.href
  return `${url.href.replace(/\/+$/, '')}/v1/traces`
}

/** Tracing is off (undefined) unless an OTLP endpoint is set and the SDK is not disabled. */
export function readTracing(env: Env, fail: (message: string) => Error): TracingConfig | undefined {
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true'
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase()
  if (exporter !== undefined && exporter !== '' && exporter !== 'otlp' && exporter !== 'none')
    throw fail(`OTEL_TRACES_EXPORTER must be otlp or none, got "${exporter}"`)
  const url = tracesUrl(env, fail)
  if (disabled || exporter === 'none' || url === undefined) return undefined

  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim()
  if (protocol !== 'http/protobuf' && protocol !== 'http/json')
    throw fail(`OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json, got "${protocol}"`)
  const sampler = (env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on') as TracesSampler
  if (!SAMPLERS.includes(sampler))
    throw fail(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')}, got "${sampler}"`)
  const rawRatio = env.OTEL_TRACES_SAMPLER_ARG?.trim() || '1'
  const ratio = Number(rawRatio)
  if (!/^\d*\.?\d+$/.test(rawRatio) || ratio > 1)
    throw fail(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "${rawRatio}"`)
  const maxQueueSize = int(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1, 100_000, fail)
  const maxExportBatchSize = int(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1, 100_000, fail)
  if (maxExportBatchSize > maxQueueSize)
    throw fail('OTEL_BSP_MAX_EXPORT_BATCH_SIZE must not be larger than OTEL_BSP_MAX_QUEUE_SIZE')
  return {
    url,
    protocol,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || 'web-db-cache',
    sampler,
    ratio,
    maxQueueSize,
    maxExportBatchSize,
    scheduleDelayMs: int(env, 'OTEL_BSP_SCHEDULE_DELAY', 1000, 1, 60_000, fail),
    exportTimeoutMs: int(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 10_000, 100, 60_000, fail)
  }
}
