import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'

export interface PressureLimits {
  /** Event-loop delay (ms) above which requests are shed; 0 turns the check off. */
  maxEventLoopDelayMs: number
  /** Heap in use (MiB) above which requests are shed; 0 turns the check off. */
  maxHeapUsedMb: number
  /** Resident memory (MiB) above which requests are shed; 0 turns the check off. */
  maxRssMb: number
}

const RETRY_AFTER_S = 5
const MIB = 1024 * 1024
// The process is alive even when it sheds load: an orchestrator must not restart it for that.
const NEVER_SHED = new Set(['/livez'])

/** Process-wide load shedding: a 503 in the service's usual {error, message} shape, with Retry-After. */
export async function loadShedding(app: FastifyInstance, limits: PressureLimits): Promise<void> {
  app.addHook('onRoute', (route) => {
    // A route's own pressureHandler that returns nothing lets its requests through.
    if (NEVER_SHED.has(route.url))
      route.config = { ...route.config, pressureHandler: () => undefined } as typeof route.config
  })
  await app.register(underPressure, {
    maxEventLoopDelay: limits.maxEventLoopDelayMs,
    maxHeapUsedBytes: limits.maxHeapUsedMb * MIB,
    maxRssBytes: limits.maxRssMb * MIB,
    pressureHandler: (request, reply, type, value) => {
      request.log.warn({ type, value }, 'shedding load')
      // Serialized as is: a route's own 503 schema (/health, /readyz) describes another body, and
      // serializing this one against it would fail with a 500.
      void reply.code(503).header('retry-after', String(RETRY_AFTER_S)).serializer(JSON.stringify)
      const body = { error: 'overloaded', message: `The service is overloaded (${type}); retry in ${RETRY_AFTER_S} s` }
      // The plugin sends what the handler returns (typed as void upstream) and stops the request.
      return body as unknown as void
    }
  })
}
