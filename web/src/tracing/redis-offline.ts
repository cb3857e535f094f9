import { SpanKind, SpanStatusCode, trace, type TracerProvider } from '@opentelemetry/api'
import type { Redis } from 'ioredis'

type SendCommand = Redis['sendCommand']

/**
 * The ioredis instrumentation ends a command's span when the command settles, but a command refused
 * at once because Redis is away (no offline queue) settles before the span is watching: that span is
 * never ended, so never exported. This records those refusals as failed Redis spans.
 */
export function traceRefusedRedisCommands(redis: Redis, provider: TracerProvider): void {
  const tracer = provider.getTracer('web-db-cache')
  const send: SendCommand = redis.sendCommand.bind(redis)
  redis.sendCommand = ((command, stream) => {
    if (redis.status !== 'ready' && redis.status !== 'connect' && trace.getActiveSpan() !== undefined) {
      const span = tracer.startSpan(command.name, {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': 'redis',
          'db.operation.name': command.name,
          'db.query.text': command.name,
          'server.address': redis.options.host,
          'server.port': redis.options.port
        }
      })
      span.setStatus({ code: SpanStatusCode.ERROR, message: `Redis is not connected (${redis.status})` })
      span.end()
    }
    return send(command, stream)
  }) as SendCommand
}
