import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'

/** Cross-origin reads and writes only for the origins configured; none by default. */
export default fp(
  async function corsPlugin(app: FastifyInstance, { origins }: { origins: string[] }) {
    if (origins.length > 0) await app.register(cors, { origin: origins })
  },
  { name: 'cors' }
)
