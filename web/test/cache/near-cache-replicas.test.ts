// Read-your-writes across replicas: three service processes on one PostgreSQL and one Redis, two
// with a near cache and one without. A read that starts after a write's answer arrived, on any
// replica, never returns the value from before the write.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  PgServer,
  RedisServer,
  call,
  serviceEnv,
  spawnService,
  stopAllLoads,
  type ServiceProcess
} from '../helpers/index.js'

let pg: PgServer
let redis: RedisServer
let replicas: ServiceProcess[] = []

before(async () => {
  ;[pg, redis] = await Promise.all([PgServer.start(), RedisServer.start()])
  // Load shedding off: three services, two servers and this runner share the machine's cores, and
  // what is tested here is coherence, not behaviour under pressure.
  const env = serviceEnv(pg, redis, { MAX_EVENT_LOOP_DELAY_MS: '0', MAX_HEAP_USED_MB: '0', MAX_RSS_MB: '0' })
  replicas = [await spawnService(env), await spawnService(env)]
  replicas.push(await spawnService({ ...env, NEAR_CACHE_MAX_ENTRIES: '0' }))
})
after(async () => {
  await stopAllLoads()
  await Promise.all(replicas.map((r) => r.destroy()))
  await Promise.all([pg?.destroy(), redis?.destroy()])
})

async function nearHits(replica: ServiceProcess): Promise<{ hit: number; bypass: number }> {
  const text = await (await fetch(`${replica.url}/metrics`)).text()
  const figure = (result: string) =>
    Number(new RegExp(`^near_cache_lookups_total\\{result="${result}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
  return { hit: figure('hit'), bypass: figure('bypass') }
}

/**
 * Runs `pairs` write-then-read rounds on `workers` parallel workers; round i writes on one replica
 * and reads twice on the next one (the second read is usually answered from its near cache, and
 * the next round's read then races the next write's invalidation). Returns the stale reads.
 */
async function writeThenRead(
  pairs: number,
  workers: number,
  write: (replica: ServiceProcess, worker: number, round: number) => Promise<void>,
  read: (replica: ServiceProcess, worker: number) => Promise<number>
): Promise<string[]> {
  const stale: string[] = []
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let round = worker; round < pairs; round += workers) {
        const writer = replicas[round % replicas.length] as ServiceProcess
        const reader = replicas[(round + 1 + (round % 2)) % replicas.length] as ServiceProcess
        await write(writer, worker, round)
        for (let again = 0; again < 2; again++) {
          const seen = await read(reader, worker)
          if (seen !== round) stale.push(`round ${round}: wrote on :${writer.port}, read ${seen} on :${reader.port}`)
        }
      }
    })
  )
  return stale
}

test('key/value: thousands of write-on-one, read-on-another pairs, none stale', async () => {
  const before = await Promise.all(replicas.map(nearHits))
  const stale = await writeThenRead(
    2000,
    6,
    async (replica, worker, round) => {
      const res = await call(replica.url, '/cache', { method: 'POST', json: { key: `ryw-${worker}`, value: round } })
      assert.equal(res.status, 201, JSON.stringify(res.body))
    },
    async (replica, worker) => {
      const res = await call(replica.url, `/cache/ryw-${worker}`)
      assert.equal(res.status, 200)
      return Number(res.body.value)
    }
  )
  assert.deepEqual(stale.slice(0, 10), [], `${stale.length} stale reads`)
  const afterward = await Promise.all(replicas.map(nearHits))
  // The two replicas with a near cache did answer from it; the one without never did.
  for (const i of [0, 1]) assert.ok(afterward[i]!.hit - before[i]!.hit > 100, `replica ${i}: too few near hits`)
  assert.equal(afterward[2]!.hit, 0)
  assert.ok(afterward[2]!.bypass > 0)
})

test('users: every update is seen by the next read on any replica, item and list', async () => {
  const stale = await writeThenRead(
    1000,
    3,
    async (replica, worker, round) => {
      const id = worker + 1
      const res = await call(replica.url, `/users/${id}`, {
        method: 'PATCH',
        json: { email: `user${id}.round${round}@example.com` }
      })
      assert.equal(res.status, 200)
    },
    async (replica, worker) => {
      const id = worker + 1
      const [one, page] = await Promise.all([call(replica.url, `/users/${id}`), call(replica.url, '/users?limit=10')])
      const listed = (page.body.users as unknown as Array<{ id: number; email: string }>).find((u) => u.id === id)
      const round = (email: string | undefined) => Number(/round(\d+)@/.exec(email ?? '')?.[1] ?? -1)
      const fromItem = round(String(one.body.email))
      // Both must show the write: report the older of the two.
      return Math.min(fromItem, round(listed?.email))
    }
  )
  assert.deepEqual(stale.slice(0, 10), [], `${stale.length} stale reads`)
})
