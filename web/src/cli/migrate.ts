// `npm run migrate`: applies pending migrations and exits; non-zero if any fails.
import { pino } from 'pino'
import { ConfigError, loadConfig } from '../config.js'
import { createPool } from '../db/pool.js'
import { migrate } from '../db/migrate.js'
import { loggerOptions } from '../logger.js'
import { waitForDatabase } from '../db/wait-for-database.js'

try {
  const config = loadConfig()
  const log = pino(loggerOptions(config.logLevel))
  const pool = createPool(config.database, config.dependencyTimeoutMs, log)
  try {
    await waitForDatabase(pool, config.startupTimeoutS, log)
    const applied = await migrate(pool, log)
    log.info({ applied }, applied.length > 0 ? `applied ${applied.length} migration(s)` : 'schema already up to date')
  } finally {
    await pool.end()
  }
} catch (err) {
  process.stderr.write(
    `${err instanceof ConfigError ? 'configuration error' : 'migration failed'}: ${err instanceof Error ? err.message : String(err)}\n`
  )
  process.exitCode = 1
}
