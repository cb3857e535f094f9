import { Type } from 'typebox'
import { errorResponses } from '../schemas/common.js'
import { CacheKey, StoreResult, StoredValue, Ttl } from '../schemas/key-value.js'
import type { App, RouteContext } from './route-context.js'

const KeyParams = Type.Object({ key: CacheKey }, { additionalProperties: false })

const StoreBody = Type.Object(
  {
    key: CacheKey,
    value: Type.Unknown({ description: 'any JSON value' }),
    ttl: Type.Optional(Type.Integer({ ...Ttl, default: 3600 }))
  },
  { additionalProperties: false }
)

/** The key/value API: any JSON value under a client-chosen key, with a TTL. */
export function keyValueRoutes(app: App, { keyValue }: RouteContext): void {
  app.post(
    '/cache',
    {
      schema: {
        summary: 'Store a JSON value with a TTL',
        tags: ['cache'],
        body: StoreBody,
        response: {
          201: StoreResult,
          ...errorResponses(400, 401, 413, 415, 429, 503)
        }
      }
    },
    async (request, reply) => {
      const { key, value } = request.body
      const ttl = request.body.ttl ?? 3600
      await keyValue.set(key, value, ttl)
      return reply.code(201).send({ key, ttl, message: `Stored "${key}" for ${ttl} s` })
    }
  )

  app.get(
    '/cache/:key',
    {
      schema: {
        summary: 'Read a stored value and its remaining TTL',
        tags: ['cache'],
        params: KeyParams,
        response: {
          200: StoredValue,
          ...errorResponses(400, 404, 409, 503)
        }
      }
    },
    (request) => keyValue.get(request.params.key)
  )

  app.delete(
    '/cache/:key',
    {
      schema: {
        summary: 'Remove a stored value',
        tags: ['cache'],
        params: KeyParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 404, 429, 503) }
      }
    },
    async (request, reply) => {
      await keyValue.delete(request.params.key)
      return reply.code(204).send(null)
    }
  )
}
