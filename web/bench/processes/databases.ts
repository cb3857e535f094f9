// PostgreSQL (durable, as in production) and Redis, private to this run.
import { log } from '../log.js'
import { PgServer, RedisServer } from '../servers.js'
import { trackServer } from './lifecycle.js'

export interface Databases {
  pg: PgServer
  redis: RedisServer
  postgresVersion: string
  redisVersion: string
}

export async function startDatabases(): Promise<Databases> {
  log('starting PostgreSQL (durable: fsync on, synchronous_commit on) and Redis')
  const [pg, redis] = await Promise.all([
    PgServer.start({ durable: true }).then(trackServer),
    RedisServer.start().then(trackServer)
  ])
  const [settings] = await pg.query<{ fsync: string; sc: string; version: string }>(
    "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc, current_setting('server_version') AS version"
  )
  if (settings?.fsync !== 'on' || settings.sc !== 'on')
    throw new Error('PostgreSQL is not durable (fsync/synchronous_commit off)')
  const redisVersion = await redis.command(
    async (r) => /redis_version:([^\r\n]+)/.exec(await r.info('server'))?.[1] ?? '?'
  )
  return { pg, redis, postgresVersion: settings.version, redisVersion }
}
