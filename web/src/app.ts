import { randomUUID, createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import Fastify, { type FastifyBaseLogger, type FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fastifyStatic from '@fastify/static'
import { existsSync } from 'node:fs'
import type { Redis } from 'ioredis'
import type { Config } from './config.js'
import type { Pool } from './db/pool.js'
import { createMetrics } from './metrics.js'
import { StaleKeys } from './cache/stale-keys.js'
import { CachedCollection } from './cache/collection.js'
import { VisitService } from './services/visits.js'
import { UserService } from './services/users.js'
import { KeyValueService } from './services/key-value.js'
import { HealthService } from './services/health.js'
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './http/errors.js'
import { validatorCompiler } from './http/validation.js'
import { securityHeaders } from './http/security-headers.js'
import { lazyChildLogger } from './http/request-logger.js'
import { ErrorBody, UserBody } from './http/schemas.js'
import { PACKAGE_JSON, UI_DIR } from './paths.js'
import type { App, RouteContext } from './routes/context.js'
import { visitRoutes } from './routes/visits.js'
import { probeRoutes } from './routes/probes.js'
import { keyValueRoutes } from './routes/key-value.js'
import { userRoutes } from './routes/users.js'
import { healthRoutes } from './routes/health.js'
import { limitedServer } from './http/connection-limits.js'
import { loadShedding } from './plugins/external/under-pressure.js'

export interface AppDeps {
  config: Config
  pool: Pool
  redis: Redis
  logger: FastifyBaseLogger
}

export const BODY_LIMIT = 1024 * 1024
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const REQUEST_ID = /^[\w.:-]{1,64}$/

const VERSION = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** Builds the HTTP app on the connections it is given; the caller owns their lifecycle. */
export async function buildApp({ config, pool, redis, logger }: AppDeps): Promise<App & { context: RouteContext }> {
  let security: Record<string, string> = {}
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT,
    // Cache keys may be 200 characters, percent-encoded up to three times longer.
    routerOptions: { maxParamLength: 1000 },
    trustProxy: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    ajv: { customOptions: { strict: false } },
    // Errors raised before routing leave in the same {error, message} shape as all others, and
    // with the same security headers (no onRequest hook runs for them).
    frameworkErrors: (error, request, reply) => {
      reply.headers(security)
      frameworkErrors(error, request, reply)
    },
    clientErrorHandler,
    // Each request's child logger is made only when the request logs something.
    childLoggerFactory: lazyChildLogger,
    serverFactory: limitedServer(config)
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(validatorCompiler())
  // Bodies are JSON or nothing: without this, text/plain would be parsed and fail validation as 400, not 415.
  app.removeContentTypeParser('text/plain')
  app.addSchema(ErrorBody)
  app.addSchema(UserBody)
  registerErrorHandling(app)

  const metrics = createMetrics()
  const stale = new StaleKeys(redis, logger)
  const context: RouteContext = {
    config,
    pool,
    redis,
    metrics,
    visits: new VisitService(pool, redis, metrics, stale, { ttlS: config.cacheTtlS }),
    users: new UserService(pool, new CachedCollection(redis, 'users', config.cacheTtlS, metrics, stale)),
    keyValue: new KeyValueService(redis),
    health: new HealthService(pool, redis)
  }

  // Once closing starts, each response in flight also closes its keep-alive connection; otherwise
  // idle keep-alive sockets would hold the server open past the shutdown deadline.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  // Helmet's headers are the same for every response: computed once, set in the one hook.
  security = await securityHeaders({
    contentSecurityPolicy: {
      // Served over plain HTTP on a private network: asking browsers to upgrade to HTTPS would break it.
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        upgradeInsecureRequests: null
      }
    },
    strictTransportSecurity: false
  })
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(security)
    reply.header('x-request-id', request.id)
    done()
  })
  // Hooks that run on every request take a callback rather than return a promise: no promise and
  // no extra microtask per request.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: reply.statusCode },
      reply.elapsedTime / 1000
    )
    done()
  })

  if (config.apiToken !== undefined) {
    const expected = digest(config.apiToken)
    app.addHook('onRequest', async (request: FastifyRequest, reply) => {
      if (!WRITE_METHODS.has(request.method)) return
      const header = request.headers.authorization ?? ''
      // The scheme name is case-insensitive (RFC 9110); the token is compared exactly.
      const token = /^bearer /i.test(header) ? header.slice(7) : ''
      // Compare digests so neither the length nor the content of the token leaks through timing.
      if (!timingSafeEqual(digest(token), expected)) {
        reply.header('www-authenticate', 'Bearer')
        return reply
          .code(401)
          .send({ error: 'unauthorized', message: 'This write needs the header Authorization: Bearer <API_TOKEN>' })
      }
    })
  }

  await loadShedding(app, config.pressure)
  if (config.corsOrigins.length > 0) await app.register(cors, { origin: config.corsOrigins })
  if (config.rateLimitMax > 0) {
    await app.register(rateLimit, {
      max: config.rateLimitMax,
      timeWindow: '1 minute',
      allowList: (request) => !WRITE_METHODS.has(request.method),
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: 'too_many_requests',
        message: `Rate limit of ${context.max} writes per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`
      })
    })
  }

  await app.register(swagger, {
    openapi: {
      info: { title: 'web-db-cache', description: 'A web service over PostgreSQL and Redis', version: VERSION },
      tags: [
        { name: 'visits', description: 'The homepage visit counter' },
        { name: 'cache', description: 'Key/value API on Redis' },
        { name: 'users', description: 'Users in PostgreSQL, read cache-aside' },
        { name: 'probes', description: 'Round trips to each service' },
        { name: 'health', description: 'Health, readiness and metrics' }
      ]
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })

  if (existsSync(UI_DIR)) await app.register(fastifyStatic, { root: UI_DIR, prefix: '/ui/', index: false })

  visitRoutes(app, context)
  probeRoutes(app, context)
  keyValueRoutes(app, context)
  userRoutes(app, context)
  healthRoutes(app, context, VERSION)

  return Object.assign(app, { context })
}
