import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import { StartupFailure, isRefusal } from './process/startup-failures.js'

/** A short reason for a failed attempt; the full error may hold addresses or secrets. */
export function reason(err: unknown): string {
  const code = (err as { code?: unknown }).code
  const message = err instanceof Error ? err.message.slice(0, 160) : String(err)
  // Driver messages name the user or address, never the password, and tell an operator what failed
  // (e.g. 28P01 "password authentication failed for user ...").
  return typeof code === 'string' && code !== '' && !message.includes(code) ? `${code}: ${message}` : message
}

/**
 * Retries `attempt` with exponential backoff until it succeeds or `timeoutS` passes.
 * Health at start is not health forever, but a dependency still booting should be waited for.
 */
export async function waitFor(
  name: string,
  attempt: () => Promise<unknown>,
  timeoutS: number,
  log: FastifyBaseLogger
): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000
  for (let n = 1; ; n++) {
    try {
      await attempt()
      if (n > 1) log.info({ attempts: n }, `${name} is reachable`)
      return
    } catch (err) {
      if (isRefusal(err))
        throw new StartupFailure('dependencyRefused', `${name} refused us: ${reason(err)}`, { cause: err })
      const delay = Math.min(200 * 2 ** (n - 1), 5000)
      if (Date.now() + delay > deadline) {
        const message = `${name} still unreachable after ${timeoutS} s (${reason(err)})`
        throw new StartupFailure('dependencyUnreachable', message, { cause: err })
      }
      log.warn({ attempt: n, retryInMs: delay, reason: reason(err) }, `waiting for ${name}`)
      await sleep(delay)
    }
  }
}
