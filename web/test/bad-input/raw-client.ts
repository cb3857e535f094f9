// Requests exactly as written, for the bad-input tests: no URL normalisation, any header, any
// body bytes, one connection each.
import http from 'node:http'

export interface Raw {
  status: number
  body: string
  headers: http.IncomingHttpHeaders
}

export interface Case {
  kind: string
  send: () => Promise<Raw>
  status: number
  /** The error code expected in the body. */
  error?: string
  /** Text the message must contain. */
  message?: RegExp
}

export interface RawClient {
  raw(method: string, path: string, headers?: Record<string, string>, body?: string | Buffer): Promise<Raw>
  post(path: string, json: unknown): Promise<Raw>
  postText(path: string, text: string): Promise<Raw>
}

export const JSON_TYPE = { 'content-type': 'application/json' }

/** A client for the service at `base()` (read on each request: the stack starts after import). */
export function rawClient(base: () => string): RawClient {
  const raw: RawClient['raw'] = (method, path, headers = {}, body) => {
    const url = new URL(base())
    return new Promise((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers })
        )
      })
      req.on('error', reject)
      req.end(body)
    })
  }
  return {
    raw,
    post: (path, json) => raw('POST', path, JSON_TYPE, JSON.stringify(json)),
    postText: (path, text) => raw('POST', path, JSON_TYPE, text)
  }
}

export function nested(depth: number): unknown {
  let value: unknown = 'bottom'
  for (let i = 0; i < depth; i++) value = { down: value }
  return value
}
