// Bounded load through the proxy: a few workers, each sending one request at a time, counting
// what was answered and how the rest failed.
import { http } from '../http.js'
import { sleep } from './process.js'
import { get } from './json.js'

export interface Load {
  sent: number
  ok: number
  failed: number
  errors: Map<string, number>
}

/**
 * `workers` loops, each sending `path` one request at a time until `stop()` says so, at most
 * `maxPerWorker` each, with `pauseMs` between one answer and the next request.
 */
export async function load(
  path: string,
  workers: number,
  stop: () => boolean,
  maxPerWorker = 2000,
  pauseMs = 0
): Promise<Load> {
  const result: Load = { sent: 0, ok: 0, failed: 0, errors: new Map() }
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < maxPerWorker && !stop(); i++) {
        result.sent++
        let why: string | undefined
        try {
          const r = await http(path, {}, 10_000)
          // The service's own error names its cause (a dependency timed out, load shedding...).
          if (r.status !== 200) why = `HTTP ${r.status}${errorOf(r.json)}`
        } catch (err) {
          why = err instanceof Error ? err.message : String(err)
        }
        if (why === undefined) result.ok++
        else {
          result.failed++
          result.errors.set(why, (result.errors.get(why) ?? 0) + 1)
        }
        if (pauseMs > 0) await sleep(pauseMs)
      }
    })
  )
  return result
}

function errorOf(body: unknown): string {
  const error = get(body, 'error')
  const message = get(body, 'message')
  return typeof error === 'string' ? ` ${error}${typeof message === 'string' ? `: ${message.slice(0, 80)}` : ''}` : ''
}

export const describeLoad = (l: Load): string =>
  `${l.sent} sent, ${l.failed} failed${l.errors.size > 0 ? ` (${[...l.errors].map(([k, n]) => `${k} x${n}`).join(', ')})` : ''}`
