import { randomUUID } from 'node:crypto'
import type { FastifyHttpOptions } from 'fastify'
import type { Server } from 'node:http'
import { clientErrorHandler, frameworkErrors } from './http-errors.js'
import { lazyChildLogger } from './request-logger.js'

export const BODY_LIMIT = 1024 * 1024
const REQUEST_ID = /^[\w.:-]{1,64}$/

/** Fastify's server options: limits, request ids, and the errors raised before any hook runs. */
export function requestOptions(trustProxy: string[] | false): FastifyHttpOptions<Server> {
  return {
    bodyLimit: BODY_LIMIT,
    // Cache keys may be 200 characters, percent-encoded up to three times longer.
    routerOptions: { maxParamLength: 1000 },
    // Only the listed peers (the proxy) may tell the client's address in X-Forwarded-For.
    trustProxy,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    ajv: { customOptions: { strict: false } },
    frameworkErrors,
    clientErrorHandler,
    // Each request's child logger is made only when the request logs something.
    childLoggerFactory: lazyChildLogger
  }
}
