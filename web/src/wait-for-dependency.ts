import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import { StartupFailure, isRefusal } from './process/startup-failures.js'
import { failureReason } from './dependency-failure.js'

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
        throw new StartupFailure('dependencyRefused', `${name} refused us: ${failureReason(err, 'operator')}`, {
          cause: err
        })
      const delay = Math.min(200 * 2 ** (n - 1), 5000)
      if (Date.now() + delay > deadline) {
        const message = `${name} still unreachable after ${timeoutS} s (${failureReason(err, 'operator')})`
        throw new StartupFailure('dependencyUnreachable', message, { cause: err })
      }
      log.warn({ attempt: n, retryInMs: delay, reason: failureReason(err, 'operator') }, `waiting for ${name}`)
      await sleep(delay)
    }
  }
}
