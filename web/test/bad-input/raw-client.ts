// Requests exactly as written, for the bad-input tests: no URL normalisation, any header, any
// body bytes, one connection each.
import http from 'node:http'
import net from 'node:net'

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

export interface RawReply extends Raw {
  /** Interim (1xx) status lines that came before the final answer. */
  interim: number[]
}

/**
 * Writes `request` byte for byte on a new TCP connection (no Host or other header added) and
 * reads until the server closes it: send `Connection: close` (the socket is not half-closed first,
 * which Node takes as the client giving up).
 */
export function rawSocket(base: string, request: string): Promise<RawReply> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => socket.write(request))
    const chunks: Buffer[] = []
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')))
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => {
      let text = Buffer.concat(chunks).toString('utf8')
      const interim: number[] = []
      for (let m = /^HTTP\/1\.1 (1\d\d)[^\r]*\r\n(?:[^\r]+\r\n)*\r\n/.exec(text); m;) {
        interim.push(Number(m[1]))
        text = text.slice(m[0].length)
        m = /^HTTP\/1\.1 (1\d\d)[^\r]*\r\n(?:[^\r]+\r\n)*\r\n/.exec(text)
      }
      const end = text.indexOf('\r\n\r\n')
      const [statusLine = '', ...lines] = text.slice(0, end < 0 ? undefined : end).split('\r\n')
      const headers: http.IncomingHttpHeaders = {}
      for (const line of lines) {
        const colon = line.indexOf(':')
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0)
      resolve({ status, headers, body: end < 0 ? '' : text.slice(end + 4), interim })
    })
  })
}
