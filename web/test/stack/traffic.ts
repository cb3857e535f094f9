// Traffic through the proxy and the counts it must leave in PostgreSQL and Redis: shared by the
// checks that put load on the stack while something changes under it (scale, update, restore).
import { expect, get } from './lib/json.js'
import { describeLoad, load } from './lib/load.js'
import { must } from './lib/process.js'
import { http } from './http.js'
import { compose } from './stack.js'

export { load, describeLoad as describe, type Load } from './lib/load.js'

/** One SQL statement in the db container's own database; its rows, fields separated by commas. */
export async function psql(sql: string): Promise<string> {
  const r = await must(
    'psql in db',
    compose(
      [
        'exec',
        '-T',
        'db',
        'sh',
        '-c',
        'psql -X -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAF, -c "$1"',
        'psql',
        sql
      ],
      30_000
    )
  )
  return r.stdout.trim()
}

/** One redis-cli command in the cache container (authenticated by its REDISCLI_AUTH). */
export async function redisCli(...args: string[]): Promise<string> {
  const r = await must(
    'redis-cli in cache',
    compose(['exec', '-T', 'cache', 'redis-cli', '--no-auth-warning', ...args])
  )
  return r.stdout.trim()
}

export async function countsInPostgres(): Promise<VisitCounts> {
  const [total = NaN, logged = NaN] = (
    await psql(
      "SELECT coalesce((SELECT total FROM visit_counter WHERE label = 'homepage'), 0), (SELECT count(*) FROM visits WHERE label = 'homepage')"
    )
  )
    .split(',')
    .map(Number)
  return { total, logged }
}

export type VisitCounts = { total: number; logged: number }

/**
 * Visits through the proxy on `connections` connections: every acknowledged one is in the counter
 * and the log, once. `counts` reads them where the stack keeps its database (compose or Swarm).
 */
export async function visitsExact(counts: () => Promise<VisitCounts>, connections: number): Promise<string> {
  const before = await counts()
  const visits = await load('/', connections, () => false, 50)
  const after = await counts()
  expect(visits.failed === 0, describeLoad(visits))
  const total = after.total - before.total
  const logged = after.logged - before.logged
  expect(total === visits.ok && logged === visits.ok, `acknowledged ${visits.ok}, counter +${total}, log +${logged}`)
  return `${visits.ok} acknowledged = counter +${total} = log +${logged}`
}

/** Hosts that answered `count` GET /health through the proxy. */
export async function hostsSeen(count: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>()
  for (let i = 0; i < count; i++) {
    const host = get((await http('/health')).json, 'services', 'web', 'host')
    if (typeof host === 'string') seen.set(host, (seen.get(host) ?? 0) + 1)
  }
  return seen
}
