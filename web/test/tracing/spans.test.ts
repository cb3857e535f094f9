// Tracing on: what reaches an OTLP receiver for real requests, on the real start-up path.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { eventually, type RedisServer, type ServiceProcess } from '../helpers/index.js'
import type { OtlpReceiver, ReceivedSpan } from './otlp-receiver.js'
import { startTracedService, type TracedService } from './traced-service.js'

const SERVER = 2 // SpanKind.SERVER in OTLP
const ERROR = 2

describe('tracing: spans of a request, exported over OTLP/HTTP', () => {
  let traced: TracedService | undefined
  let redis: RedisServer
  let receiver: OtlpReceiver
  let service: ServiceProcess
  before(async () => {
    traced = await startTracedService({
      LOG_LEVEL: 'info',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test'
    })
    ;({ redis, receiver, service } = traced)
  })
  after(() => traced?.destroy())

  async function traceOf(traceId: string, done: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
    await eventually(`spans of trace ${traceId}`, async () => done(receiver.trace(traceId)), 30_000)
    return receiver.trace(traceId)
  }

  test('GET /users/1 on a cache miss: one trace, server span by route, SQL and Redis spans under it', async () => {
    const res = await fetch(`${service.url}/users/1`, { headers: { 'x-request-id': 'trace-miss-1' } })
    assert.equal(res.status, 200)
    const traceId = res.headers.get('x-trace-id') ?? ''
    assert.match(traceId, /^[0-9a-f]{32}$/)
    const spans = await traceOf(
      traceId,
      (s) => s.some((span) => span.kind === SERVER) && s.some((span) => span.name.startsWith('pg.query'))
    )
    const server = spans.find((span) => span.kind === SERVER)
    assert.ok(server, JSON.stringify(spans))
    assert.equal(server.name, 'GET /users/:id')
    assert.equal(server.parentSpanId, undefined)
    assert.equal(server.service, 'web-db-cache')
    assert.equal(server.attributes['http.route'], '/users/:id')
    assert.equal(server.attributes['cache.decision'], 'miss')
    assert.equal(server.attributes['cache.name'], 'users')

    const sql = spans.filter((span) => span.name.startsWith('pg.query'))
    assert.ok(sql.length >= 1)
    for (const span of sql) {
      assert.equal(span.parentSpanId, server.spanId, `${span.name} is a child of the request`)
      const statement = String(span.attributes['db.query.text'] ?? span.attributes['db.statement'])
      assert.match(statement, /FROM users WHERE id = \$1/)
    }
    const commands = spans.filter(
      (span) => span.attributes['db.system'] === 'redis' || span.attributes['db.system.name'] === 'redis'
    )
    assert.ok(commands.length >= 2, `Redis lookup spans: ${JSON.stringify(spans.map((s) => s.name))}`)
    for (const span of commands) {
      assert.equal(span.parentSpanId, server.spanId)
      const text = String(span.attributes['db.statement'] ?? span.attributes['db.query.text'] ?? '')
      assert.doesNotMatch(text, /users/, 'no key or value in the Redis span')
    }
    assert.ok(commands.some((span) => span.name === 'hget'))

    // The request's log lines carry its trace.
    const lines = service
      .output()
      .split('\n')
      .filter((line) => line.includes('"trace-miss-1"'))
      .map((line) => JSON.parse(line) as { trace_id?: string; span_id?: string; msg: string })
    const traced = lines.filter((line) => line.trace_id !== undefined)
    assert.ok(
      traced.some((line) => line.msg === 'request completed'),
      JSON.stringify(lines)
    )
    for (const line of traced) assert.equal(line.trace_id, traceId)
  })

  test('an incoming traceparent is continued', async () => {
    const parentTrace = '4bf92f3577b34da6a3ce929d0e0e4736'
    const parentSpan = '00f067aa0ba902b7'
    const res = await fetch(`${service.url}/users/2`, {
      headers: { traceparent: `00-${parentTrace}-${parentSpan}-01` }
    })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-trace-id'), parentTrace)
    const spans = await traceOf(parentTrace, (s) => s.some((span) => span.kind === SERVER))
    const server = spans.find((span) => span.kind === SERVER)
    assert.equal(server?.parentSpanId, parentSpan)
  })

  test('a cache hit is recorded as such, and a sampled request leaves an OpenMetrics exemplar', async () => {
    const res = await fetch(`${service.url}/users/1`)
    const traceId = res.headers.get('x-trace-id') ?? ''
    const spans = await traceOf(traceId, (s) => s.some((span) => span.kind === SERVER))
    assert.equal(spans.find((span) => span.kind === SERVER)?.attributes['cache.decision'], 'hit')
    assert.ok(!spans.some((span) => span.name.startsWith('pg.query')), 'a hit does not ask PostgreSQL')

    const open = await fetch(`${service.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } })
    assert.match(open.headers.get('content-type') ?? '', /application\/openmetrics-text/)
    const text = await open.text()
    assert.match(
      text,
      /http_request_duration_seconds_bucket\{[^}]*route="\/users\/:id"[^}]*\} \d+ # \{trace_id="[0-9a-f]{32}",span_id="[0-9a-f]{16}"\}/
    )
    assert.match(text, /otel_spans_dropped_total\{reason="queue_full"\} 0/)
    const plain = await (await fetch(`${service.url}/metrics`)).text()
    assert.doesNotMatch(plain, /# \{trace_id=/, 'the Prometheus text format has no exemplars')
  })

  test('the group commit of visits: a span per batch, linked to the requests it served', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${service.url}/`, { headers: { accept: 'application/json' } }))
    )
    assert.ok(responses.every((res) => res.status === 200))
    const requestSpans = responses.map((res) => res.headers.get('x-trace-id') ?? '')
    await eventually('batch spans', async () => {
      const batches = receiver.spans.filter((span) => span.name === 'visits group commit')
      const linked = new Set(batches.flatMap((span) => span.links.map((link) => link.traceId)))
      return requestSpans.every((traceId) => linked.has(traceId))
    })
    const batch = receiver.spans.find((span) => span.name === 'visits group commit' && span.links.length > 0)
    assert.ok(batch)
    assert.equal(batch.parentSpanId, undefined, 'a batch is a root: it belongs to many requests')
    assert.ok(
      receiver
        .trace(batch.traceId)
        .some((span) => span.name.startsWith('pg.query') && span.parentSpanId === batch.spanId)
    )
  })

  test('with Redis stopped, the Redis span has error status and the response is unchanged', async () => {
    await redis.stop()
    await eventually('the service to see Redis gone', async () => (await fetch(`${service.url}/health`)).status === 503)
    const res = await fetch(`${service.url}/users/3`)
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as { id: number }).id, 3)
    const traceId = res.headers.get('x-trace-id') ?? ''
    const spans = await traceOf(traceId, (s) => s.some((span) => span.kind === SERVER))
    const server = spans.find((span) => span.kind === SERVER)
    assert.equal(server?.attributes['cache.decision'], 'error')
    const failed = spans.filter(
      (span) => span.attributes['db.system'] === 'redis' || span.attributes['db.system.name'] === 'redis'
    )
    assert.ok(failed.length >= 1, JSON.stringify(spans.map((s) => s.name)))
    for (const span of failed) assert.equal(span.statusCode, ERROR)
    await redis.start()
  })
})
