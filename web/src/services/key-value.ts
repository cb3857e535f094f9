import type { Redis } from 'ioredis'
import { badRequest, conflict, guard, notFound } from '../dependency-failure.js'
import { pipelineResults } from '../cache/pipeline.js'
import { PROBE_KEY, keyValueKey } from '../cache/keyspace.js'
import { round } from './latency.js'
import { remainingTtlS, type NearCache, type NearCopy } from '../cache/near-cache.js'

/** Client keys live under their own prefix: no client key can name an internal one. */
export const MAX_VALUE_DEPTH = 64

/** Depth of a JSON value, counted without recursion so a hostile value cannot overflow the stack. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number]
    if (node === null || typeof node !== 'object') continue
    deepest = Math.max(deepest, depth)
    if (deepest > limit) return deepest
    for (const child of Object.values(node)) stack.push([child, depth + 1])
  }
  return deepest
}

export interface StoredValue {
  key: string
  value: unknown
  ttl: number
}

/**
 * The stored value: JSON, as everything written through the API is; else the text itself, as a
 * string: a value put straight into Redis (redis-cli SET) may be any bytes.
 */
function parseStored(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export class KeyValueService {
  constructor(
    private readonly redis: Redis,
    private readonly near: NearCache
  ) {}

  async set(key: string, value: unknown, ttl: number): Promise<void> {
    if (jsonDepth(value, MAX_VALUE_DEPTH) > MAX_VALUE_DEPTH) {
      throw badRequest(`value is nested more than ${MAX_VALUE_DEPTH} levels deep`)
    }
    // JSON such as 1e400 parses to Infinity, which would be stored as null: refuse it rather than
    // read back something else than was sent.
    const text = JSON.stringify(value, (_name, item: unknown) => {
      if (typeof item === 'number' && !Number.isFinite(item))
        throw badRequest('value holds a number too large to store (e.g. 1e400)')
      return item
    })
    const redisKey = keyValueKey(key)
    try {
      await guard('cache', () => this.redis.set(redisKey, text, 'EX', ttl))
    } finally {
      // Also when the answer was lost: the value may have changed. Redis's invalidation follows.
      this.near.forget(redisKey)
    }
  }

  async get(key: string): Promise<StoredValue> {
    const redisKey = keyValueKey(key)
    const { copy } = await guard('cache', () => this.near.read(redisKey, '', () => this.load(key, redisKey)))
    if (copy === null) throw notFound(`No cached value for key "${key}" (it may have expired)`)
    copy.parsed ??= parseStored(copy.text)
    return { key, value: copy.parsed, ttl: remainingTtlS(copy) }
  }

  /** The value and its expiry, as one Redis round trip. */
  private async load(key: string, redisKey: string): Promise<NearCopy | null> {
    // The expiry is kept as a time on our own clock: the remaining TTL counted from when the read
    // was sent, which is never later than Redis's own expiry and needs no clock shared with it.
    const sentAt = Date.now()
    // Issued together: auto-pipelining sends both in one round trip, batched with other requests'.
    const [raw, pttl] = await Promise.all([this.redis.get(redisKey), this.redis.pttl(redisKey)]).catch(
      (err: unknown) => {
        // A hash, list... put there outside the API: not an outage, and retrying will not help.
        if (err instanceof Error && err.message.startsWith('WRONGTYPE')) {
          throw conflict(
            `Key "${key}" holds a kind of Redis value this API does not store (put there outside it); overwrite it with POST /cache or remove it with DELETE /cache/{key}`
          )
        }
        throw err
      }
    )
    if (raw === null) return null
    return { text: raw, expiresAt: pttl === -1 ? undefined : sentAt + Math.max(0, pttl) }
  }

  async delete(key: string): Promise<void> {
    const redisKey = keyValueKey(key)
    let removed: number
    try {
      removed = await guard('cache', () => this.redis.del(redisKey))
    } finally {
      this.near.forget(redisKey)
    }
    if (removed === 0) throw notFound(`No cached value for key "${key}"`)
  }

  /** The seeds' probe: write `teste` = `ok` and read it back. */
  async probe(): Promise<{ key: string; value: string | null; latency_ms: number }> {
    const started = performance.now()
    const [, value] = await guard('cache', () =>
      pipelineResults<[string, string | null]>(this.redis.pipeline().set(PROBE_KEY, 'ok').get(PROBE_KEY))
    )
    return { key: PROBE_KEY, value, latency_ms: round(performance.now() - started) }
  }
}
