import type { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'

/** How often a read may trigger another repair attempt while keys are marked. */
const RETRY_MS = 1000

/**
 * Keys whose cached copy may be stale because an invalidation or update could not reach Redis.
 * Reads bypass them, and they are deleted as soon as Redis is reachable again, so a Redis that
 * comes back (from a pause, a network cut, or its own append-only file) never serves an old copy.
 * "Reachable again" is noticed on reconnect ('ready') and, because a Redis that only stalled
 * never disconnects, also by retrying at most once a second while reads keep asking.
 */
export class StaleKeys {
  /** Key -> the mark's number, so a repair never clears a mark made while it was running. */
  private readonly keys = new Map<string, number>()
  private marks = 0
  private repairing = false
  private lastAttempt = 0

  constructor(
    private readonly redis: Redis,
    private readonly log: FastifyBaseLogger
  ) {
    redis.on('ready', () => void this.repair())
  }

  mark(...keys: string[]): void {
    for (const key of keys) this.keys.set(key, ++this.marks)
  }

  has(key: string): boolean {
    if (this.keys.size > 0 && !this.repairing && Date.now() - this.lastAttempt >= RETRY_MS) void this.repair()
    return this.keys.has(key)
  }

  async repair(): Promise<void> {
    if (this.keys.size === 0 || this.repairing) return
    this.repairing = true
    this.lastAttempt = Date.now()
    const entries = [...this.keys]
    try {
      await this.redis.del(...entries.map(([key]) => key))
      for (const [key, mark] of entries) if (this.keys.get(key) === mark) this.keys.delete(key)
      this.log.info(
        { keys: entries.map(([key]) => key) },
        'dropped cached copies that may have gone stale while Redis was away'
      )
    } catch {
      // Still unreachable; the next 'ready', or a read a second from now, tries again.
    } finally {
      this.repairing = false
    }
  }
}
