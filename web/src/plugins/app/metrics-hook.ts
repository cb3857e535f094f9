import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Metrics } from '../../metrics.js'

/** Observes each response's duration by method, route pattern and status. */
export default fp(
  async function metricsHook(app: FastifyInstance, { metrics, exemplars }: { metrics: Metrics; exemplars?: boolean }) {
    // A callback rather than a promise: no promise and no extra microtask per request.
    app.addHook('onResponse', (request, reply, done) => {
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: reply.statusCode
      }
      const value = reply.elapsedTime / 1000
      // With tracing on the histogram takes exemplars, and its observe() then takes one object.
      // (prom-client types exemplar labels as if they were the metric's own label names.)
      const exemplarLabels = request.traceExemplar as Partial<typeof labels> | undefined
      if (exemplars) metrics.httpDuration.observe({ labels, value, exemplarLabels })
      else metrics.httpDuration.observe(labels, value)
      done()
    })
  },
  { name: 'metrics-hook' }
)
