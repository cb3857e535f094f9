// The near cache: in-process copies of cached reads, kept coherent by Redis's invalidations.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { pino } from 'pino'
import { call, eventually, serviceEnv, startStack, type TestStack } from '../helpers/index.js'
import { loadConfig } from '../../src/config.js'
import { createRedis } from '../../src/cache/redis.js'
import { NearCache } from '../../src/cache/near-cache.js'
import { Tracking } from '../../src/cache/tracking.js'

let stack: TestStack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())

/** How many times Redis ran a command, from INFO commandstats. */
async function calls(command: string): Promise<number> {
  const info = await stack.redis.command((r) => r.info('commandstats'))
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0)
}

/** A near cache figure from /metrics. */
async function metric(name: string): Promise<number> {
  const text = (await call(stack.url, '/metrics')).body as unknown as string
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
}

const tracking = () => eventually('tracking on', async () => (await metric('near_cache_tracking')) === 1)

test('repeated reads are answered from the process, not from Redis', async () => {
  await tracking()
  assert.equal(
    (await call(stack.url, '/cache', { method: 'POST', json: { key: 'near', value: { n: 1 } } })).status,
    201
  )
  // A first read may find Redis empty and fill it; the one after it keeps a copy.
  for (const path of ['/cache/near', '/users/1', '/visits', '/cache/near', '/users/1', '/visits'])
    await call(stack.url, path)
  const [gets, hgets] = [await calls('get'), await calls('hget')]
  for (let i = 0; i < 50; i++) {
    assert.deepEqual((await call(stack.url, '/cache/near')).body.value, { n: 1 })
    assert.equal((await call(stack.url, '/users/1')).headers.get('x-cache'), 'hit')
    assert.equal((await call(stack.url, '/visits')).body.cached, true)
  }
  assert.equal(await calls('hget'), hgets)
  assert.equal(await calls('get'), gets)
  assert.ok((await metric('near_cache_hit_ratio')) > 0)
  const { near } = (await call(stack.url, '/health')).body.cache_stats
  assert.equal(near.enabled, true)
  assert.equal(near.tracking, true)
  assert.ok(Number(near.hits) >= 150 && Number(near.entries) >= 3)
})

const put = (key: string, value: unknown, ttl = 3600) =>
  call(stack.url, '/cache', { method: 'POST', json: { key, value, ttl } })

/** Reads until a read is served by the process (Redis's GET count stays put), then returns it. */
async function nearRead(path: string) {
  // A first read may find Redis empty and fill it, and that fill's own invalidation may drop the
  // copy the next read made: a few reads settle it.
  for (let attempt = 0; attempt < 5; attempt++) {
    await call(stack.url, path)
    const gets = await calls('get')
    const read = await call(stack.url, path)
    if ((await calls('get')) === gets) return read
  }
  assert.fail(`${path} was not served from the near cache`)
}

test('the remaining TTL is counted down from the copy and agrees with Redis to the second', async () => {
  assert.equal((await put('ttl', 'v', 100)).status, 201)
  assert.equal((await nearRead('/cache/ttl')).body.ttl, 100)
  await sleep(1600)
  const read = await nearRead('/cache/ttl')
  assert.equal(read.body.ttl, 98)
  assert.equal(read.body.ttl, await stack.redis.command((r) => r.ttl('kv:ttl')))
})

test('a copy is not served past its expiry', async () => {
  assert.equal((await put('short', 'v', 1)).status, 201)
  assert.equal((await nearRead('/cache/short')).status, 200)
  await sleep(1100)
  assert.equal((await call(stack.url, '/cache/short')).status, 404)
})

test('keys changed directly in Redis invalidate the copies: SET, PEXPIRE, DEL, FLUSHDB', async () => {
  assert.equal((await put('direct', 'before')).status, 201)
  assert.equal((await nearRead('/cache/direct')).body.value, 'before')
  await stack.redis.command((r) => r.set('kv:direct', JSON.stringify('after')))
  assert.equal((await call(stack.url, '/cache/direct')).body.value, 'after')

  assert.equal((await nearRead('/cache/direct')).body.ttl, -1)
  await stack.redis.command((r) => r.pexpire('kv:direct', 50))
  await sleep(200)
  assert.equal((await call(stack.url, '/cache/direct')).status, 404)

  assert.equal((await nearRead('/visits')).body.cached, true)
  await stack.redis.command((r) => r.set('visit_counter:homepage', '12345'))
  assert.equal((await call(stack.url, '/visits')).body.total, 12345)

  await nearRead('/users/2')
  await stack.redis.command((r) => r.del('users:cache'))
  assert.equal((await call(stack.url, '/users/2')).headers.get('x-cache'), 'miss')

  assert.equal((await put('flushed', 1)).status, 201)
  await nearRead('/cache/flushed')
  assert.ok((await metric('near_cache_entries')) > 0)
  await stack.redis.command((r) => r.flushdb())
  assert.equal((await call(stack.url, '/cache/flushed')).status, 404)
  assert.equal((await call(stack.url, '/visits')).body.cached, false)
})

/** A near cache of its own on the stack's Redis, to build races the HTTP API cannot time. */
async function ownNearCache(limits = { maxEntries: 1000, maxBytes: 1 << 20 }) {
  const log = pino({ level: 'silent' })
  const redis = createRedis(loadConfig(serviceEnv(stack.pg, stack.redis)).redis, 2000, log)
  const tracking: Tracking = new Tracking(redis, (keys) => near.invalidate(keys), log)
  const near = new NearCache(tracking, limits)
  await redis.connect()
  tracking.start()
  await eventually('tracking on', () => Promise.resolve(tracking.ready))
  const load = (key: string) => async () => {
    const text = await redis.get(key)
    return text === null ? null : { text }
  }
  return {
    redis,
    tracking,
    near,
    load,
    close() {
      tracking.close()
      redis.disconnect()
    }
  }
}

test('a read that overlaps an invalidation of its key keeps no copy (placeholder)', async () => {
  const own = await ownNearCache()
  try {
    await own.redis.set('kv:race', 'old')
    // Redis answers the read with the old value; then another client writes, and that write's
    // invalidation reaches this process before the read's answer is handed over.
    const first = await own.near.read('kv:race', '', async () => {
      const copy = await own.load('kv:race')()
      await stack.redis.command((r) => r.set('kv:race', 'new'))
      await own.tracking.fence()
      return copy
    })
    assert.equal(first.copy?.text, 'old')
    const second = await own.near.read('kv:race', '', own.load('kv:race'))
    assert.equal(second.near, false, 'the overlapping read kept its copy')
    assert.equal(second.copy?.text, 'new')
    assert.equal((await own.near.read('kv:race', '', own.load('kv:race'))).near, true)
  } finally {
    own.close()
  }
})

test('copies stay within their bounds in entries and bytes under a scan of many keys', async () => {
  const own = await ownNearCache({ maxEntries: 500, maxBytes: 256 * 1024 })
  try {
    const value = 'x'.repeat(1000)
    const keys = Array.from({ length: 3000 }, (_, i) => `kv:scan-${i}`)
    await stack.redis.command((r) => r.mset(...keys.flatMap((key) => [key, value])))
    let peakEntries = 0
    let peakBytes = 0
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((key) => own.near.read(key, '', own.load(key))))
      peakEntries = Math.max(peakEntries, own.near.entries)
      peakBytes = Math.max(peakBytes, own.near.bytes)
    }
    assert.ok(peakEntries > 0 && peakEntries <= 500, `entries ${peakEntries}`)
    assert.ok(peakBytes > 200 * 1024 && peakBytes <= 256 * 1024, `bytes ${peakBytes}`)
    await stack.redis.command((r) => r.del(...keys))
  } finally {
    own.close()
  }
})

test('an answered fence leaves nothing behind: 20,000 fences, heap flat after collection', async () => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const own = await ownNearCache()
  try {
    const used = (): number => {
      gc()
      return process.memoryUsage().heapUsed
    }
    // Warm: code compiled and optimised, buffers sized (the first 20,000 grow the heap by ~1.5 MB on Node 24).
    for (let i = 0; i < 20_000; i++) await own.tracking.fence()
    const before = used()
    for (let i = 0; i < 20_000; i++) await own.tracking.fence()
    const grownKb = (used() - before) / 1024
    // A fence that stayed reachable costs about 700 bytes: 20,000 of them, 14 MB.
    assert.ok(grownKb < 4096, `the heap grew by ${grownKb.toFixed(0)} KB over 20,000 fences`)
  } finally {
    own.close()
  }
})

// Last in this file: it restarts the stack's Redis, empty.
test('losing Redis empties the copies at once; once it is back, tracking is on again before a copy is served', async () => {
  const own = await ownNearCache()
  try {
    assert.equal((await put('outage', 'kept')).status, 201)
    assert.equal((await nearRead('/cache/outage')).body.value, 'kept')
    await own.near.read('kv:outage', '', own.load('kv:outage'))
    assert.equal((await own.near.read('kv:outage', '', own.load('kv:outage'))).near, true)

    await stack.redis.stop()
    await eventually('copies dropped', () => Promise.resolve(own.near.entries === 0 && !own.tracking.ready), 2000, 5)
    assert.equal((await call(stack.url, '/cache/outage')).status, 503)
    assert.equal(await metric('near_cache_entries'), 0)
    assert.equal(await metric('near_cache_tracking'), 0)

    await stack.redis.start() // empty: this Redis keeps nothing on disk
    await eventually(
      'the service reads Redis again',
      async () => (await call(stack.url, '/cache/outage')).status === 404
    )
    await stack.redis.command((r) => r.set('kv:outage', JSON.stringify('after')))
    await eventually('tracking on again', async () => (await metric('near_cache_tracking')) === 1)
    assert.equal((await nearRead('/cache/outage')).body.value, 'after')
    await stack.redis.command((r) => r.set('kv:outage', JSON.stringify('changed')))
    assert.equal((await call(stack.url, '/cache/outage')).body.value, 'changed')
    await eventually('own tracking on again', () => Promise.resolve(own.tracking.ready))
  } finally {
    own.close()
  }
})
