// A service process with tracing on, exporting to a receiver of the test's own, on private servers.
import { PgServer, RedisServer, serviceEnv, spawnService, type ServiceProcess } from '../helpers/index.js'
import { OtlpReceiver } from './otlp-receiver.js'

export interface TracedService {
  pg: PgServer
  redis: RedisServer
  receiver: OtlpReceiver
  service: ServiceProcess
  destroy(): Promise<void>
}

/** `env` adds to (or overrides) the exporter's settings; `answer` is the receiver's status from the start. */
export async function startTracedService(env: Record<string, string>, answer = 200): Promise<TracedService> {
  const [pg, redis, receiver] = await Promise.all([PgServer.start(), RedisServer.start(), OtlpReceiver.start()])
  receiver.answer = answer
  const service = await spawnService(
    serviceEnv(pg, redis, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      ...env
    })
  ).catch(async (err: unknown) => {
    await Promise.all([pg.destroy(), redis.destroy(), receiver.close()])
    throw err
  })
  return {
    pg,
    redis,
    receiver,
    service,
    async destroy() {
      await service.destroy()
      await Promise.all([pg.destroy(), redis.destroy(), receiver.close()])
    }
  }
}
