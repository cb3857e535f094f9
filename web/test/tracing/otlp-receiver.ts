/**
 * An OTLP/HTTP traces receiver for tests: a plain node:http server that decodes what the exporter
 * sends with OTEL_EXPORTER_OTLP_PROTOCOL=http/json. It can be told to refuse (503) or stop.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number }
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes?: Array<{ key: string; value: AnyValue }>
  links?: Array<{ traceId: string; spanId: string }>
  status?: { code?: number; message?: string }
}
interface OtlpBody {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: AnyValue }> }
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>
  }>
}

export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  name: string
  kind: number
  attributes: Record<string, string | number | boolean | undefined>
  links: Array<{ traceId: string; spanId: string }>
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number
  service: string | undefined
}

function plain(value: AnyValue): string | number | boolean | undefined {
  if (value.intValue !== undefined) return Number(value.intValue)
  return value.stringValue ?? value.boolValue ?? value.doubleValue
}

function attributes(list: Array<{ key: string; value: AnyValue }> = []): ReceivedSpan['attributes'] {
  return Object.fromEntries(list.map(({ key, value }) => [key, plain(value)]))
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = []
  /** HTTP status answered to exports: 200 accepts them, anything else refuses. */
  answer = 200
  requests = 0
  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpReceiver> {
    const server = createServer()
    const receiver = new OtlpReceiver(server)
    server.on('request', (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        receiver.requests++
        if (receiver.answer !== 200 || req.url !== '/v1/traces') {
          res.writeHead(receiver.answer === 200 ? 404 : receiver.answer).end()
          return
        }
        receiver.collect(JSON.parse(Buffer.concat(chunks).toString()) as OtlpBody)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return receiver
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  private collect(body: OtlpBody): void {
    for (const resourceSpans of body.resourceSpans ?? []) {
      const service = attributes(resourceSpans.resource?.attributes)['service.name']
      for (const scope of resourceSpans.scopeSpans ?? [])
        for (const span of scope.spans ?? [])
          this.spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            name: span.name,
            kind: span.kind,
            attributes: attributes(span.attributes),
            links: span.links ?? [],
            statusCode: span.status?.code ?? 0,
            service: typeof service === 'string' ? service : undefined
          })
    }
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId)
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
