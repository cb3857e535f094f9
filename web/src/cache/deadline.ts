import type { Redis } from 'ioredis'

/** The commands the service sends one by one (explicit pipelines and MULTI are sent at once). */
const COMMANDS = ['get', 'set', 'hget', 'del', 'eval', 'ttl', 'incr', 'ping', 'info'] as const

export class RedisDeadlineError extends Error {
  constructor(ms: number) {
    super(`Redis command timed out after ${ms} ms`)
    this.name = 'RedisDeadlineError'
  }
}

/** Rejects when `work` has not settled `ms` after this call; `work` itself goes on and is ignored. */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisDeadlineError(ms)), ms)
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

/**
 * Gives each command a deadline counted from when the caller made it. ioredis's own command timeout
 * starts only when the command is written, and with auto-pipelining a command waits, unwritten,
 * until the pipeline before it is answered: with Redis frozen that is a whole timeout before its own
 * timeout starts, so every call waited twice as long as it should. Auto-pipelining itself stays on.
 */
export function boundCommands(redis: Redis, ms: number): void {
  const commands = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
  for (const name of COMMANDS) {
    const send = commands[name]!.bind(redis)
    commands[name] = (...args: unknown[]) => withDeadline(send(...args), ms)
  }
}
