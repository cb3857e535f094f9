import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DependencyError, HttpError } from '../../dependency-failure.js'
import { API_HEADERS } from '../external/security-headers.js'

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  411: 'length_required',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  417: 'expectation_failed',
  429: 'too_many_requests',
  431: 'headers_too_large',
  503: 'service_unavailable'
}

// Fastify's own messages for these are terse; ours say what to do.
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'Request body is larger than the 1 MiB limit',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Send the body as JSON with Content-Type: application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Body is empty; send a JSON object',
  FST_ERR_CTP_INVALID_JSON_BODY: 'Body is not valid JSON'
}

/** Every error leaves as {error, message}; internals (stack, SQL, addresses) stay in the log. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) {
      if (err instanceof DependencyError) {
        const cause = err.cause instanceof Error ? err.cause.message : String(err.cause)
        request.log.warn({ dependency: err.dependency, cause }, 'dependency unavailable')
        reply.header('retry-after', '1')
      }
      return reply.code(err.statusCode).send({ error: err.code, message: err.message })
    }
    if (err.validation) {
      return reply.code(400).send({ error: 'bad_request', message: err.message })
    }
    const status = err.statusCode ?? 500
    if (status >= 400 && status < 500) {
      const message =
        FASTIFY_MESSAGES[err.code] ?? (err instanceof SyntaxError ? 'Body is not valid JSON' : err.message)
      return reply.code(status).send({ error: CODES[status] ?? 'bad_request', message })
    }
    request.log.error({ err }, 'unhandled error')
    return reply
      .code(500)
      .send({ error: 'internal_error', message: 'Something went wrong on our side; it has been logged.' })
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]?.slice(0, 200) ?? ''
    return reply
      .code(404)
      .send({ error: 'not_found', message: `No route ${request.method} ${path}; see /docs for the API` })
  })
}

/**
 * Errors Fastify raises before routing (a URL that is not valid percent-encoding, a path parameter
 * too long), in the same {error, message} shape and with the same headers as all others: no
 * onRequest hook runs for them.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  reply.headers(API_HEADERS)
  const status = error.statusCode ?? 400
  const message =
    error.code === 'FST_ERR_BAD_URL' ? 'The URL is not valid: percent-encoding must spell UTF-8' : error.message
  void reply.code(status).send({ error: CODES[status] ?? 'bad_request', message })
}

const API_HEADER_LINES = Object.entries(API_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('')

/** Errors of Node's HTTP parser, before there is a request: answered in the same {error, message} shape. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request line and headers are larger than the server accepts']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request did not arrive in time']
        : [400, 'Malformed HTTP request']
  const body = JSON.stringify({ error: CODES[status], message })
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `${API_HEADER_LINES}Connection: close\r\n\r\n${body}`
    )
  }
  socket.destroy(err)
}
