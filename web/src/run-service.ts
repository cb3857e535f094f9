import './tune-v8-heap.js'
import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { ConfigError, describeTargets, loadConfig, type Config } from './config.js'
import { loggerOptions } from './logger.js'
import { createPool } from './db/pool.js'
import { createRedis } from './cache/redis.js'
import { buildApp } from './app.js'
import { waitFor } from './wait-for-dependency.js'
import { prepareDatabase } from './db/wait-for-database.js'
import { closeConnectionsNotBeingAnswered } from './http/connection-limits.js'
import { exitOnStartupFailure, listenFailure } from './process/startup-failures.js'
import { stopWhenNpmStops } from './process/parent-watch.js'
import { activeTracing } from './tracing/load.js'

/** Shutdown must finish inside the 10 s Docker grants before it sends SIGKILL. */
export const SHUTDOWN_GRACE_MS = 8000

function readConfig(): Config {
  try {
    return loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
}

async function main(): Promise<void> {
  const config = readConfig()
  const tracing = activeTracing()
  const log = pino(loggerOptions(config.logLevel, tracing?.logFields))
  const targets = describeTargets(config)
  log.info({ db: targets.db, cache: targets.cache }, 'starting web-db-cache')

  const pool = createPool(config.database, config.dependencyTimeoutMs, log)
  const redis = createRedis(config.redis, config.dependencyTimeoutMs, log)
  // A command on a client not yet connected fails with ioredis's own words; the connection's error is the cause.
  let redisCause: unknown
  redis.on('error', (err) => (redisCause = err))
  redis.on('ready', () => (redisCause = undefined))
  redis.connect().catch(() => undefined) // ioredis keeps retrying by itself; waitFor reports progress

  try {
    await prepareDatabase(pool, { timeoutS: config.startupTimeoutS, applyMigrations: config.migrateOnStart }, log)
  } catch (err) {
    await pool.end().catch(() => undefined)
    redis.disconnect()
    throw err
  }
  const ping = () => redis.ping().catch((err: unknown) => Promise.reject(redisCause ?? err))
  try {
    await waitFor('Redis', ping, Math.min(config.startupTimeoutS, 30), log)
  } catch (err) {
    // Redis only holds copies: start degraded rather than not at all; it is picked up when it appears.
    log.warn({ reason: err instanceof Error ? err.message : String(err) }, 'starting without Redis (degraded)')
  }

  const app = await buildApp({ config, pool, redis, logger: log, tracing })
  if (tracing) log.info({ endpoint: tracing.config.url, sampler: tracing.config.sampler }, 'tracing on')

  closeWithGrace({ delay: SHUTDOWN_GRACE_MS, logger: log }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an unexpected error')
    else log.info({ signal }, 'shutting down: finishing in-flight requests')
    const closed = closeConnectionsNotBeingAnswered(app.server)
    if (closed > 0) log.info({ closed }, 'closed idle connections and unfinished uploads')
    await app.close() // stops accepting, waits for requests in flight, commits pending visits
    await pool.end()
    await redis.quit().catch(() => redis.disconnect())
    await tracing?.shutdown().catch(() => undefined) // the last spans, within the export timeout
    log.info('stopped cleanly')
  })

  await app.listen({ host: config.host, port: config.port }).catch((err: unknown) => {
    throw listenFailure(err, config.host, config.port)
  })
  stopWhenNpmStops()
}

await main().catch(exitOnStartupFailure)
