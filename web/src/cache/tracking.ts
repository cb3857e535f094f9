import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import { INVALIDATION_CHANNEL } from './keyspace.js'

const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Turns of the event loop the next PING waits once the one before it is answered, so that the
 * requests read from the sockets meanwhile join it. Each PING costs a system call that wakes Redis
 * (about 50-90 µs here); at 32 connections one PING served 15 readers after one turn, 29 after four
 * (docs/benchmarks.md, "Near cache"). An idle loop turns in microseconds, so a lone reader barely waits.
 */
const TURNS_BETWEEN_PINGS = 4

async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await endOfTurn()
}

/** Called with the keys Redis says changed, or null when every copy must go (flush, lost connection). */
export type InvalidationListener = (keys: string[] | null) => void

/**
 * Redis server-assisted client-side caching in redirect mode: a second connection, speaking RESP2,
 * subscribes to the invalidation channel, and the data connection runs `CLIENT TRACKING on
 * REDIRECT <that connection's id>`, so Redis tells us whenever a key the data connection read
 * changes, expires, is evicted or flushed.
 *
 * A copy may be trusted only while `ready`: both connections up and tracking confirmed for the
 * current pair of them. Any lost connection clears every copy at once and bumps `epoch`, so a read
 * that began under an earlier pair can never keep what it read.
 */
export class Tracking {
  /** Tracking is on for the current pair of connections: reads issued now are tracked. */
  ready = false
  /** Bumped whenever the pair of connections changes; a copy read under another epoch is dropped. */
  epoch = 0
  private readonly subscriber: Redis
  private subscriberId: number | undefined
  private closed = false
  /**
   * The PING sent and not yet answered, if any (fence() sends one at a time): the next waits for it,
   * and a lost connection fails it at once rather than leave it to time out. Dropped once it settles:
   * a promise that lives as long as the connection must not collect a reaction per PING (racing
   * against one kept every answered fence in memory).
   */
  private pingInFlight: { settled: Promise<void>; fail: (err: Error) => void } | undefined
  /** The PING that callers of fence() wait for, not sent yet. */
  private nextPing: Promise<void> | undefined

  constructor(
    private readonly data: Redis,
    private readonly onInvalidate: InvalidationListener,
    private readonly log: FastifyBaseLogger
  ) {
    this.subscriber = data.duplicate({
      connectionName: 'web-db-cache-invalidations',
      lazyConnect: true,
      enableAutoPipelining: false,
      // Over RESP3 Redis sends invalidations to this connection as `invalidate` push frames, which
      // ioredis drops; over RESP2 they arrive as messages on the channel it subscribed to.
      protocol: 2,
      // We subscribe ourselves after asking the new connection's id, which a subscribed RESP2
      // connection can no longer answer; and a fence's PING must not outlive its connection.
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false
    })
    this.subscriber.on('error', () => undefined) // the data connection already reports outages
    this.subscriber.on('messageBuffer', (channel: Buffer, message: unknown) => this.message(channel, message))
    this.subscriber.on('close', () => {
      this.subscriberId = undefined
      this.lost()
    })
    this.subscriber.on('ready', () => void this.subscribe())
    data.on('close', () => this.lost())
    data.on('ready', () => void this.enable())
  }

  start(): void {
    this.subscriber.connect().catch(() => undefined) // ioredis retries by itself, with backoff
  }

  close(): void {
    this.closed = true
    this.lost()
    this.subscriber.disconnect()
  }

  /**
   * Resolves once Redis has answered a PING sent on the invalidation connection after this call.
   * Redis sends an invalidation before it answers anything it processes later on that connection,
   * so once the PONG is in, every invalidation for a write that finished before this call has been
   * applied. One PING serves every caller that came before it was sent: it leaves at the end of the
   * turn of the event loop, and only once the PING before it is answered and a few more turns have
   * passed (a write system call per reader cost almost as much as reading the value from Redis).
   */
  fence(): Promise<void> {
    if (this.nextPing !== undefined) return this.nextPing
    const previous = this.pingInFlight?.settled
    const afterPrevious = () => turns(TURNS_BETWEEN_PINGS)
    const ready = previous === undefined ? endOfTurn() : previous.then(afterPrevious, afterPrevious)
    const next = ready.then(() => {
      this.nextPing = undefined
      return this.ping()
    })
    this.nextPing = next
    return next
  }

  private ping(): Promise<void> {
    let fail: (err: Error) => void = () => undefined
    const answered = new Promise<unknown>((resolve, reject) => {
      fail = reject
      this.subscriber.ping().then(resolve, reject)
    })
    const sent = answered.then(
      () => undefined,
      (err: unknown) => {
        // A frozen or half-open connection: trust nothing until a fresh one is tracking again.
        if (this.ready) {
          this.lost()
          this.subscriber.disconnect(true)
        }
        throw err
      }
    )
    const inFlight = { settled: sent, fail }
    this.pingInFlight = inFlight
    const done = (): void => {
      if (this.pingInFlight === inFlight) this.pingInFlight = undefined
    }
    sent.then(done, done)
    return sent
  }

  private message(channel: Buffer, message: unknown): void {
    if (channel.toString() !== INVALIDATION_CHANNEL) return
    // RESP2 invalidations carry an array of keys, or null when the database was flushed.
    if (!Array.isArray(message)) return this.onInvalidate(null)
    this.onInvalidate(message.map((key: Buffer) => key.toString()))
  }

  private lost(): void {
    this.epoch++
    if (this.ready) this.log.info('near cache: Redis connection lost, local copies dropped')
    this.ready = false
    this.pingInFlight?.fail(new Error('Redis connection lost'))
    this.onInvalidate(null)
  }

  /** On every (re)connection of the subscriber: learn its id, then listen. */
  private async subscribe(): Promise<void> {
    const epoch = this.epoch
    try {
      const id = Number(await this.subscriber.client('ID'))
      await this.subscriber.subscribe(INVALIDATION_CHANNEL)
      if (epoch !== this.epoch) return
      this.subscriberId = id
      await this.enable()
    } catch {
      this.retry()
    }
  }

  /** Turns tracking on for the data connection once both connections are up. */
  private async enable(): Promise<void> {
    const id = this.subscriberId
    if (this.closed || id === undefined || this.data.status !== 'ready') return
    const epoch = this.epoch
    try {
      await this.data.client('TRACKING', 'ON', 'REDIRECT', id)
      if (epoch !== this.epoch || this.subscriberId !== id) return
      this.ready = true
      this.log.info('near cache: tracking on')
    } catch {
      this.retry()
    }
  }

  /** A set-up step failed on a live connection: start over on a fresh subscriber connection. */
  private retry(): void {
    if (this.closed) return
    this.lost()
    this.subscriber.disconnect(true)
  }
}
