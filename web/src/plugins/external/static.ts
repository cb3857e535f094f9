import { existsSync } from 'node:fs'
import fp from 'fastify-plugin'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import { UI_DIR } from '../../paths.js'

/** The built status page's files under /ui/; absent until `npm run build` made them. */
export default fp(
  async function staticPlugin(app: FastifyInstance) {
    if (existsSync(UI_DIR)) await app.register(fastifyStatic, { root: UI_DIR, prefix: '/ui/', index: false })
  },
  { name: 'static' }
)
