// The framework ceiling: a bare Fastify "hello world", run beside the service in the same benchmark.
// Same Fastify version, production mode, no logger, a response schema like the service's routes.
import process from 'node:process'
import Fastify from 'fastify'

const app = Fastify({ logger: false })
app.get(
  '/',
  { schema: { response: { 200: { type: 'object', properties: { hello: { type: 'string' } } } } } },
  async () => ({ hello: 'world' })
)
const port = Number(process.env.PORT ?? 0)
await app.listen({ host: '127.0.0.1', port })
process.send?.({ ready: true })
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void app.close().then(() => process.exit(0)))
