/**
 * The one entry point tests import from: the app on private servers (in-process or as a real
 * process), HTTP load, and the private PostgreSQL and Redis servers shared with the benchmark.
 */
export { call, startStack, visitCounts, type Json, type TestStack } from './app.js'
export { testPool } from './pool.js'
export {
  Load,
  describeStats,
  send,
  stopAllLoads,
  type LoadOptions,
  type LoadStats,
  type Outcome,
  type RequestSpec
} from './load.js'
export { eventually, liveServiceForFile, spawnService, type LiveService, type ServiceProcess } from './service.js'
export {
  PgServer,
  RedisServer,
  capture,
  freePort,
  postgresBinDir,
  redisServerBin,
  serviceEnv,
  type PgOptions
} from '../../dev/private-servers/index.js'
/** The probe script a forked child runs against /livez (a path, for child_process.fork). */
export const LIVEZ_PROBE = new URL('./livez-probe.mjs', import.meta.url).pathname
export { WEB, runScript, type ScriptRun } from './scripts.js'
