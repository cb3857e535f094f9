import fp from 'fastify-plugin'
import swagger, { type SwaggerTransform } from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, FastifySchema } from 'fastify'
import { WRITE_METHODS } from '../app/write-methods.js'

interface ObjectSchema {
  properties?: Record<string, { default?: unknown }>
  required?: string[]
}

/**
 * A query parameter with a default is filled in by validation, so the client need not send it:
 * the document says optional, while the schema Fastify validates with keeps it required, which
 * is what types it as always present in the handler.
 */
function defaultsOptional(querystring: unknown): unknown {
  const schema = querystring as ObjectSchema | undefined
  if (schema?.required === undefined) return querystring
  const required = schema.required.filter((name) => schema.properties?.[name]?.default === undefined)
  return { ...schema, required }
}

const isWrite = (method: string | string[]): boolean =>
  (Array.isArray(method) ? method : [method]).some((m) => WRITE_METHODS.has(m))

/** The OpenAPI document, built from the route schemas, and its browser at /docs. */
export default fp(
  async function swaggerPlugin(app: FastifyInstance, { version, token }: { version: string; token: boolean }) {
    const transform: SwaggerTransform = ({ schema, url, route }) => {
      if (schema === undefined) return { schema, url }
      const documented: FastifySchema & { security?: unknown } = {
        ...schema,
        querystring: defaultsOptional(schema.querystring)
      }
      // The same rule as the auth plugin: with API_TOKEN set, every write needs the bearer token.
      if (token && isWrite(route.method)) documented.security = [{ bearerAuth: [] }]
      return { schema: documented, url }
    }
    await app.register(swagger, {
      openapi: {
        info: { title: 'web-db-cache', description: 'A web service over PostgreSQL and Redis', version },
        tags: [
          { name: 'visits', description: 'The homepage visit counter' },
          { name: 'cache', description: 'Key/value API on Redis' },
          { name: 'users', description: 'Users in PostgreSQL, read cache-aside' },
          { name: 'probes', description: 'Round trips to each service' },
          { name: 'health', description: 'Health, readiness and metrics' }
        ],
        components: {
          securitySchemes: {
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              description: 'The API_TOKEN the service was started with; needed by writes when it is set'
            }
          }
        }
      },
      transform
    })
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })
  },
  { name: 'swagger' }
)
