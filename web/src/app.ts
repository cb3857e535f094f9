import { readFileSync } from 'node:fs'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Redis } from 'ioredis'
import type { Config } from './config.js'
import type { Pool } from './db/pool.js'
import { createMetrics } from './metrics.js'
import { PACKAGE_JSON } from './paths.js'
import { createServices } from './services/create-services.js'
import { requestOptions } from './plugins/app/request-options.js'
import validation from './plugins/app/validation.js'
import errorHandler from './plugins/app/error-handler.js'
import shutdown from './plugins/app/shutdown.js'
import metricsHook from './plugins/app/metrics-hook.js'
import auth from './plugins/app/auth.js'
import httpPreconditions from './plugins/app/http-preconditions.js'
import securityHeaders, { documentHeaders } from './plugins/external/security-headers.js'
import cors from './plugins/external/cors.js'
import rateLimit from './plugins/external/rate-limit.js'
import swagger from './plugins/external/swagger.js'
import staticFiles from './plugins/external/static.js'
import type { App, RouteContext } from './routes/route-context.js'
import { visitRoutes } from './routes/visits.js'
import { probeRoutes } from './routes/probes.js'
import { keyValueRoutes } from './routes/key-value.js'
import { userRoutes } from './routes/users.js'
import { healthRoutes } from './routes/health.js'
import { limitedServer } from './http/connection-limits.js'
import { loadShedding } from './plugins/external/under-pressure.js'
import type { Tracing } from './tracing/sdk.js'

export { BODY_LIMIT } from './plugins/app/request-options.js'

export interface AppDeps {
  config: Config
  pool: Pool
  redis: Redis
  logger: FastifyBaseLogger
  /** Present when tracing is configured (OTEL_EXPORTER_OTLP_ENDPOINT). */
  tracing?: Tracing | undefined
}

const VERSION = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version

/** Builds the HTTP app on the connections it is given; the caller owns their lifecycle. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, logger } = deps
  const document = await documentHeaders()
  const app = Fastify({
    loggerInstance: logger,
    ...requestOptions(config.trustProxy),
    serverFactory: limitedServer(config)
  }).withTypeProvider<TypeBoxTypeProvider>()

  const { tracing } = deps
  tracing?.watchRedis(deps.redis)
  const metrics = createMetrics({ exemplars: tracing !== undefined })
  const context: RouteContext = { config, metrics, ...createServices(deps, metrics, tracing?.groupCommit) }
  // Visits accepted but not yet committed are written before the caller ends the pool.
  // Pruned in the background: old receipts every minute, old log rows hourly; the total stays.
  context.visitRetention.start(60 * 1000)
  app.addHook('onClose', async () => {
    await context.visitRetention.stop()
    await context.visits.drain()
    context.closeNearCache()
  })

  // First, so every later hook and handler runs inside the request's span.
  if (tracing) await app.register(tracing.plugin, { metrics })
  // Hook order is registration order: headers first, so even a 401 or a 429 carries them.
  await app.register(validation)
  await app.register(errorHandler)
  await app.register(shutdown)
  await app.register(securityHeaders, { document })
  await app.register(httpPreconditions)
  await app.register(metricsHook, { metrics, exemplars: tracing !== undefined })
  await app.register(auth, { token: config.apiToken })
  await loadShedding(app, config.pressure)
  await app.register(cors, { origins: config.corsOrigins })
  await app.register(rateLimit, { max: config.rateLimitMax })
  await app.register(swagger, { version: VERSION, token: config.apiToken !== undefined })
  await app.register(staticFiles)

  visitRoutes(app, context)
  probeRoutes(app, context)
  keyValueRoutes(app, context)
  userRoutes(app, context)
  healthRoutes(app, context, VERSION)

  return app
}
