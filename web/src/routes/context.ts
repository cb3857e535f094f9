import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault
} from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Redis } from 'ioredis'
import type { Config } from '../config.js'
import type { Pool } from '../db/pool.js'
import type { Metrics } from '../metrics.js'
import type { VisitService } from '../services/visits.js'
import type { UserService } from '../services/users.js'
import type { KeyValueService } from '../services/key-value.js'
import type { HealthService } from '../services/health.js'

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>

/** What route modules may use; built once by the app factory. */
export interface RouteContext {
  config: Config
  pool: Pool
  redis: Redis
  metrics: Metrics
  visits: VisitService
  users: UserService
  keyValue: KeyValueService
  health: HealthService
}
