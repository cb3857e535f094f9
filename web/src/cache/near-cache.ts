import { LRUCache } from 'lru-cache'
import type { Tracking } from './tracking.js'

/** A value as Redis holds it, kept in this process. */
export interface NearCopy {
  /** The stored text (JSON, or a number). */
  text: string
  /** When Redis expires it, on this process's clock (ms since the epoch); undefined: never. */
  expiresAt?: number
  /** The parsed text, made on the first read that needs it and shared by later ones. */
  parsed?: unknown
}

export interface NearRead {
  copy: NearCopy | null
  /** Served from this process's copy, without a read from Redis. */
  near: boolean
}

export interface NearCacheOptions {
  /** Copies kept at most; 0 turns the near cache off. */
  maxEntries: number
  /** Estimated memory of the copies kept at most. */
  maxBytes: number
}

interface Entry {
  key: string
  copy: NearCopy
}

/** A fill in progress for one Redis key: an invalidation that arrives meanwhile removes it. */
interface Placeholder {
  readers: number
}

// UTF-16 text, its parsed form and the entry's own objects: an estimate, on the safe side.
const entrySize = (entry: Entry, id: string): number => 3 * entry.copy.text.length + 2 * id.length + 200

/** Remaining seconds of a copy, rounded as Redis's TTL command rounds them; -1 when it never expires. */
export function remainingTtlS(copy: NearCopy, now = Date.now()): number {
  if (copy.expiresAt === undefined) return -1
  return Math.floor((Math.max(0, copy.expiresAt - now) + 500) / 1000)
}

/**
 * In-process copies of Redis values (a string key, or one field of a hash), bounded in entries and
 * bytes (least recently used go first), kept coherent by Redis's invalidations (see Tracking).
 *
 * A copy is served only after a fence: the reader waits for a PING on the invalidation connection
 * sent after it arrived, so a write that any replica finished before the read began has had its
 * invalidation applied. A read that finds no copy goes to Redis and keeps what it got only if no
 * invalidation for that key arrived while it was in flight (a placeholder per key, removed by
 * invalidations) and the connections were not lost meanwhile.
 */
export class NearCache {
  private readonly copies: LRUCache<string, Entry> | undefined
  /** Redis key -> ids of the copies made from it (one per hash field). */
  private readonly idsOf = new Map<string, Set<string>>()
  private readonly filling = new Map<string, Placeholder>()
  readonly stats = { hits: 0, misses: 0, bypassed: 0, invalidations: 0 }

  constructor(
    private readonly tracking: Tracking | undefined,
    options: NearCacheOptions
  ) {
    if (tracking === undefined || options.maxEntries === 0) return
    this.copies = new LRUCache<string, Entry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: entrySize,
      dispose: (entry, id) => this.unindex(entry.key, id)
    })
  }

  get enabled(): boolean {
    return this.copies !== undefined
  }

  /** Tracking is on: copies are being kept and served. */
  get active(): boolean {
    return this.copies !== undefined && this.tracking?.ready === true
  }

  get entries(): number {
    return this.copies?.size ?? 0
  }

  get bytes(): number {
    return this.copies?.calculatedSize ?? 0
  }

  /**
   * The value of `key` (field '' for a string key, else a hash field): this process's copy when
   * it is current, else `load()` from Redis, kept for the next readers.
   */
  async read(key: string, field: string, load: () => Promise<NearCopy | null>): Promise<NearRead> {
    const copies = this.copies
    if (copies === undefined || this.tracking?.ready !== true) {
      this.stats.bypassed++
      return { copy: await load(), near: false }
    }
    const id = field === '' ? key : `${key}\u0000${field}`
    const entry = copies.get(id)
    if (entry !== undefined) {
      try {
        await this.tracking.fence()
        // The fence may have brought an invalidation (or the copy may have expired meanwhile).
        if (copies.peek(id) === entry && !expired(entry.copy)) {
          this.stats.hits++
          return { copy: entry.copy, near: true }
        }
      } catch {
        // The invalidation connection did not answer: read from Redis, as without a near cache.
      }
    }
    this.stats.misses++
    return { copy: await this.fill(key, id, load), near: false }
  }

  /** Drops every copy made from these keys (all of them for null), and any fill in progress. */
  invalidate(keys: string[] | null): void {
    this.stats.invalidations++
    if (keys === null) {
      this.idsOf.clear()
      this.filling.clear()
      this.copies?.clear()
      return
    }
    for (const key of keys) this.forget(key)
  }

  /** Drops the copies of one key: after this process changed it, before Redis's own word arrives. */
  forget(key: string): void {
    this.filling.delete(key)
    const copies = this.copies
    if (copies === undefined) return
    const ids = this.idsOf.get(key)
    if (ids === undefined) return
    this.idsOf.delete(key)
    for (const id of ids) copies.delete(id)
  }

  private async fill(key: string, id: string, load: () => Promise<NearCopy | null>): Promise<NearCopy | null> {
    const tracking = this.tracking as Tracking
    const epoch = tracking.epoch
    let placeholder = this.filling.get(key)
    if (placeholder === undefined) {
      placeholder = { readers: 0 }
      this.filling.set(key, placeholder)
    }
    placeholder.readers++
    try {
      const copy = await load()
      const current = this.filling.get(key) === placeholder && tracking.epoch === epoch && tracking.ready
      if (copy !== null && current && !expired(copy)) this.keep(key, id, copy)
      return copy
    } finally {
      if (--placeholder.readers === 0 && this.filling.get(key) === placeholder) this.filling.delete(key)
    }
  }

  private keep(key: string, id: string, copy: NearCopy): void {
    const copies = this.copies as LRUCache<string, Entry>
    const entry = { key, copy }
    copies.set(id, entry)
    if (copies.peek(id) !== entry) return // larger than the whole budget: not kept
    let ids = this.idsOf.get(key)
    if (ids === undefined) {
      ids = new Set()
      this.idsOf.set(key, ids)
    }
    ids.add(id)
  }

  private unindex(key: string, id: string): void {
    const ids = this.idsOf.get(key)
    if (ids === undefined) return
    ids.delete(id)
    if (ids.size === 0) this.idsOf.delete(key)
  }
}

function expired(copy: NearCopy): boolean {
  return copy.expiresAt !== undefined && copy.expiresAt <= Date.now()
}
