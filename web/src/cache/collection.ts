import { pipelineResults } from './pipeline.js'
import { collectionCacheKey, collectionGenerationKey } from './keyspace.js'
import type { Redis } from 'ioredis'
import type { Metrics } from '../metrics.js'
import type { StaleKeys } from './stale-keys.js'
import type { NearCache } from './near-cache.js'

// Fill only if no write invalidated the collection since the reader looked (the generation is
// unchanged); otherwise a slow reader would put back a copy older than the write.
const FILL_IF_CURRENT = `
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return 1`

/**
 * A cache-aside collection: all cached reads of one table live in one Redis hash,
 * so a write invalidates every page and item of it with a single DEL.
 */
export class CachedCollection {
  private readonly hashKey: string
  private readonly genKey: string

  constructor(
    private readonly redis: Redis,
    private readonly name: string,
    private readonly ttlS: number,
    private readonly metrics: Metrics,
    private readonly stale: StaleKeys,
    private readonly near: NearCache
  ) {
    this.hashKey = collectionCacheKey(name)
    this.genKey = collectionGenerationKey(name)
  }

  /**
   * A cached read as JSON text: a hit is handed on as stored, for callers that send it straight to
   * a client instead of parsing it and serializing it again; a miss loads, answers and fills.
   */
  async readText(field: string, load: () => Promise<unknown>): Promise<{ text: string; cached: boolean }> {
    const { hit, generation } = await this.lookup(field)
    if (hit !== null) return { text: hit, cached: true }
    const text = JSON.stringify(await load())
    this.fill(field, generation, text)
    return { text, cached: false }
  }

  private async lookup(field: string): Promise<{ hit: string | null; generation: string | undefined }> {
    if (this.stale.has(this.hashKey)) {
      this.metrics.cacheBypassed(this.name)
      return { hit: null, generation: undefined }
    }
    try {
      let generation: string | undefined
      const { copy } = await this.near.read(this.hashKey, field, async () => {
        // Issued together, so auto-pipelining sends both (with other requests' commands) in one
        // round trip. The generation is read before the database is, which is all the fill check
        // needs; the two reads need not be atomic.
        const [hit, gen] = await Promise.all([this.redis.hget(this.hashKey, field), this.redis.get(this.genKey)])
        generation = gen ?? '0'
        return hit === null ? null : { text: hit }
      })
      this.metrics.cacheLookup(this.name, copy !== null ? 'hit' : 'miss')
      return { hit: copy?.text ?? null, generation: copy !== null ? undefined : generation }
    } catch {
      this.metrics.cacheLookup(this.name, 'error')
      return { hit: null, generation: undefined }
    }
  }

  /** Fills the cache after a miss, unless a write invalidated it since the lookup. */
  private fill(field: string, generation: string | undefined, text: string): void {
    if (generation === undefined) return
    this.redis
      .eval(FILL_IF_CURRENT, 2, this.hashKey, this.genKey, generation, field, text, this.ttlS)
      .catch(() => undefined) // a missed fill only costs the next reader a database read
  }

  /** Call after every committed write. Never throws: the write already happened. */
  async invalidate(): Promise<void> {
    try {
      await pipelineResults(this.redis.multi().incr(this.genKey).del(this.hashKey))
    } catch {
      this.stale.mark(this.hashKey)
    } finally {
      this.near.forget(this.hashKey)
    }
  }
}
