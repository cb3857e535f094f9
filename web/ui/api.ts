// Every call to the service's JSON API goes through api(): a timeout, and failures as values, not throws.
import type { ErrorBody } from './api-types.js'
import { REQUEST_TIMEOUT_MS } from './timing.js'

/** Result of one API call: the parsed body and status, or why there is none. */
export type Reply<T> =
  { ok: true; status: number; body: T } | { ok: false; status: number; error: string; message: string }

function isErrorBody(body: unknown): body is ErrorBody {
  return (
    typeof body === 'object' && body !== null && 'message' in body && typeof (body as ErrorBody).message === 'string'
  )
}

export async function api<T>(path: string, init: RequestInit = {}, acceptStatus: number[] = []): Promise<Reply<T>> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS)
  try {
    const response = await fetch(path, {
      ...init,
      signal: controller.signal,
      headers: { accept: 'application/json', ...init.headers }
    })
    const text = await response.text()
    let body: unknown = null
    try {
      body = text === '' ? null : (JSON.parse(text) as unknown)
    } catch {
      body = null
    }
    if (response.ok || acceptStatus.includes(response.status))
      return { ok: true, status: response.status, body: body as T }
    if (isErrorBody(body)) return { ok: false, status: response.status, error: body.error, message: body.message }
    return { ok: false, status: response.status, error: 'http_error', message: `HTTP ${response.status}` }
  } catch (err) {
    const aborted = err instanceof DOMException && err.name === 'AbortError'
    return {
      ok: false,
      status: 0,
      error: 'unreachable',
      message: aborted ? 'The web service did not answer in time.' : 'The web service cannot be reached.'
    }
  } finally {
    clearTimeout(timer)
  }
}
