import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/** The OpenAPI document, built from the route schemas, and its browser at /docs. */
export default fp(
  async function swaggerPlugin(app: FastifyInstance, { version }: { version: string }) {
    await app.register(swagger, {
      openapi: {
        info: { title: 'web-db-cache', description: 'A web service over PostgreSQL and Redis', version },
        tags: [
          { name: 'visits', description: 'The homepage visit counter' },
          { name: 'cache', description: 'Key/value API on Redis' },
          { name: 'users', description: 'Users in PostgreSQL, read cache-aside' },
          { name: 'probes', description: 'Round trips to each service' },
          { name: 'health', description: 'Health, readiness and metrics' }
        ]
      }
    })
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })
  },
  { name: 'swagger' }
)
