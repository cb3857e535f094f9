// Tracing's settings: off unless configured, standard variables read and checked at start.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, loadConfig } from '../../src/config.js'
import { readTracing } from '../../src/config/tracing.js'
import { PgServer, RedisServer, runScript, serviceEnv, spawnService, type ServiceProcess } from '../helpers/index.js'

const fail = (message: string) => new ConfigError(message)

describe('tracing settings', () => {
  test('off without an endpoint, or when disabled', () => {
    assert.equal(readTracing({}, fail), undefined)
    assert.equal(readTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }, fail), undefined)
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }
    assert.equal(readTracing({ ...endpoint, OTEL_SDK_DISABLED: 'true' }, fail), undefined)
    assert.equal(readTracing({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }, fail), undefined)
  })

  test('defaults, and the traces path appended to the general endpoint only', () => {
    const config = readTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, fail)
    assert.deepEqual(config, {
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'web-db-cache',
      sampler: 'parentbased_always_on',
      ratio: 1,
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
      scheduleDelayMs: 1000,
      exportTimeoutMs: 10_000
    })
    const specific = readTracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://tempo:4318/custom' }, fail)
    assert.equal(specific?.url, 'https://tempo:4318/custom')
    const sampled = readTracing(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
        OTEL_SERVICE_NAME: 'shop-web'
      },
      fail
    )
    assert.equal(sampled?.ratio, 0.1)
    assert.equal(sampled?.serviceName, 'shop-web')
  })

  test('each bad value is named', () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4318' }, /OTEL_EXPORTER_OTLP_ENDPOINT must start with http/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, /OTEL_EXPORTER_OTLP_ENDPOINT is not a valid URL/],
      [
        { ...base, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
        /OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json/
      ],
      [{ ...base, OTEL_TRACES_SAMPLER: 'sometimes' }, /OTEL_TRACES_SAMPLER must be one of/],
      [{ ...base, OTEL_TRACES_SAMPLER_ARG: '1.5' }, /OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1/],
      [{ ...base, OTEL_TRACES_SAMPLER_ARG: 'half' }, /OTEL_TRACES_SAMPLER_ARG/],
      [{ ...base, OTEL_BSP_MAX_QUEUE_SIZE: '0' }, /OTEL_BSP_MAX_QUEUE_SIZE must be between 1 and 100000/],
      [{ ...base, OTEL_BSP_MAX_QUEUE_SIZE: '10' }, /OTEL_BSP_MAX_EXPORT_BATCH_SIZE must not be larger/],
      [{ ...base, OTEL_TRACES_EXPORTER: 'zipkin' }, /OTEL_TRACES_EXPORTER must be otlp or none/]
    ]
    for (const [env, message] of cases) assert.throws(() => readTracing(env, fail), message)
    assert.throws(() => loadConfig({ ...base, OTEL_TRACES_SAMPLER: 'x' }), ConfigError)
  })

  test('a bad tracing setting stops the service with one clear line', async () => {
    const result = await runScript('src/server.ts', {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_TRACES_SAMPLER_ARG: '2'
    })
    assert.equal(result.code, 2)
    assert.equal(
      result.stderr.trim(),
      'configuration error: OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "2"'
    )
  })
})

describe('tracing off: nothing of it shows', () => {
  let pg: PgServer
  let redis: RedisServer
  let service: ServiceProcess
  before(async () => {
    ;[pg, redis] = await Promise.all([PgServer.start(), RedisServer.start()])
    service = await spawnService(serviceEnv(pg, redis, { LOG_LEVEL: 'info' }))
  })
  after(async () => {
    await service?.destroy()
    await Promise.all([pg?.destroy(), redis?.destroy()])
  })

  test('no trace header, no trace ids in logs, no tracing metric, no exemplars', async () => {
    const res = await fetch(`${service.url}/users/1`, { headers: { 'x-request-id': 'untraced-1' } })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-trace-id'), null)
    const lines = service
      .output()
      .split('\n')
      .filter((line) => line.includes('"untraced-1"'))
    assert.ok(lines.length > 0)
    for (const line of lines) assert.doesNotMatch(line, /trace_id/)
    const open = await fetch(`${service.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } })
    const text = await open.text()
    assert.doesNotMatch(text, /otel_spans_dropped_total/)
    assert.doesNotMatch(text, /# \{trace_id=/)
  })
})
