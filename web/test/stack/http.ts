// HTTP to the stack's published port, with a time limit on every request.
import { stack } from './stack.js'
import { expect, get } from './lib/json.js'

export interface HttpResult {
  status: number
  contentType: string
  text: string
  json: unknown
}

export const url = (path: string): string => `http://127.0.0.1:${stack.port}${path}`

/** One request; the body is parsed as JSON when it is JSON. */
export async function http(path: string, init: RequestInit = {}, timeoutMs = 10_000): Promise<HttpResult> {
  const res = await fetch(url(path), { ...init, signal: AbortSignal.timeout(timeoutMs) })
  const text = await res.text()
  const contentType = res.headers.get('content-type') ?? ''
  let json: unknown = undefined
  if (contentType.includes('json') && text !== '') json = JSON.parse(text) as unknown
  return { status: res.status, contentType, text, json }
}

export const jsonInit = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body)
})

/** The JSON body of a request that must answer `status`. */
export async function getJson(path: string, status = 200, init: RequestInit = {}): Promise<unknown> {
  const r = await http(path, init)
  expect(
    r.status === status,
    `${init.method ?? 'GET'} ${path}: expected ${status}, got ${r.status} ${r.text.slice(0, 200)}`
  )
  return r.json
}

export async function visitsTotal(): Promise<number> {
  const total = get(await getJson('/visits'), 'total')
  expect(typeof total === 'number', 'GET /visits has no numeric total')
  return total
}
