import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { Config } from '../config.js'
import type { Pool } from '../db/pool.js'
import type { Metrics } from '../metrics.js'
import { StaleKeys } from '../cache/stale-keys.js'
import { CachedCollection } from '../cache/collection.js'
import { VisitService } from './visits.js'
import { VisitRetention } from './visit-retention.js'
import { UserService } from './users.js'
import { KeyValueService } from './key-value.js'
import { HealthService } from './health.js'
import { UserRepository } from '../db/repositories/users.js'
import { VisitRepository } from '../db/repositories/visits.js'
import { ProbeRepository } from '../db/repositories/probes.js'
import type { GroupCommitTracer } from '../tracing/hooks.js'
import { NearCache } from '../cache/near-cache.js'
import { Tracking } from '../cache/tracking.js'
import { registerNearCacheMetrics } from '../cache/near-cache-metrics.js'

export interface Services {
  visits: VisitService
  visitRetention: VisitRetention
  users: UserService
  keyValue: KeyValueService
  health: HealthService
  nearCache: NearCache
  /** Closes the near cache's invalidation connection (the data connection is the caller's). */
  closeNearCache(): void
}

/** The service layer on the given connections: one instance of each, shared by every route. */
export function createServices(
  { pool, redis, config, logger }: { pool: Pool; redis: Redis; config: Config; logger: FastifyBaseLogger },
  metrics: Metrics,
  groupCommit?: GroupCommitTracer
): Services {
  const stale = new StaleKeys(redis, logger)
  const tracking =
    config.nearCache.maxEntries > 0 ? new Tracking(redis, (keys) => near.invalidate(keys), logger) : undefined
  const near = new NearCache(tracking, config.nearCache)
  registerNearCacheMetrics(metrics.registry, near)
  tracking?.start()
  const visitLog = new VisitRepository(pool)
  return {
    visits: new VisitService(visitLog, redis, metrics, stale, {
      ttlS: config.cacheTtlS,
      groupCommit,
      near,
      inDoubtWaitMs: config.visitInDoubtWaitMs,
      log: logger
    }),
    visitRetention: new VisitRetention(visitLog, config.visitsRetentionDays, logger),
    users: new UserService(
      new UserRepository(pool),
      new CachedCollection(redis, 'users', config.cacheTtlS, metrics, stale, near)
    ),
    keyValue: new KeyValueService(redis, near),
    health: new HealthService(new ProbeRepository(pool), redis, near),
    nearCache: near,
    closeNearCache: () => tracking?.close()
  }
}
