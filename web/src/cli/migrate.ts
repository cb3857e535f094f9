// `npm run migrate`: applies pending migrations and exits; non-zero if any fails.
import { pino } from 'pino'
import { ConfigError, loadConfig } from '../config.js'
import { createPool } from '../db/pool.js'
import { loggerOptions } from '../logger.js'
import { prepareDatabase } from '../db/wait-for-database.js'

try {
  const config = loadConfig()
  const log = pino(loggerOptions(config.logLevel))
  const pool = createPool(config.database, config.dependencyTimeoutMs, log)
  try {
    await prepareDatabase(pool, { timeoutS: config.startupTimeoutS, applyMigrations: true }, log)
  } finally {
    await pool.end()
  }
} catch (err) {
  process.stderr.write(
    `${err instanceof ConfigError ? 'configuration error' : 'migration failed'}: ${err instanceof Error ? err.message : String(err)}\n`
  )
  process.exitCode = 1
}
