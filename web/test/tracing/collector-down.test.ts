// A collector that refuses or is gone never fails requests, and spans it cannot take are dropped and counted.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Load, type ServiceProcess } from '../helpers/index.js'
import type { OtlpReceiver } from './otlp-receiver.js'
import { startTracedService, type TracedService } from './traced-service.js'

function dropped(metrics: string, reason: string): number {
  return Number(new RegExp(`otel_spans_dropped_total\\{reason="${reason}"\\} (\\d+)`).exec(metrics)?.[1] ?? NaN)
}

describe('tracing: a collector that refuses or is down', () => {
  let traced: TracedService | undefined
  let receiver: OtlpReceiver
  let service: ServiceProcess
  before(async () => {
    traced = await startTracedService(
      {
        OTEL_BSP_MAX_QUEUE_SIZE: '512',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '128',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_EXPORTER_OTLP_TIMEOUT: '500'
      },
      503
    )
    ;({ receiver, service } = traced)
  })
  after(() => traced?.destroy())

  async function run(amount: number): Promise<void> {
    const load = new Load({
      url: service.url,
      connections: 8,
      amount,
      next: (n) => ({ path: `/users/${(n % 10) + 1}` })
    })
    const stats = await load.done
    assert.equal(stats.ok, amount, JSON.stringify(stats))
  }

  test('answering 503: every request succeeds, memory stays bounded, dropped spans are counted', async () => {
    // Warm up: caches filled, the heap at its working size (on Node 24, V8 grows it by some 60 MB
    // between the 2,000th and the 10,000th request, then keeps it there).
    await run(10_000)
    const rssBefore = service.rssKb()
    await run(20_000)
    const growthMb = (service.rssKb() - rssBefore) / 1024
    // Spans kept past their export (the leak this guards against) grew it by 80 MB.
    assert.ok(growthMb < 40, `RSS grew by ${growthMb.toFixed(1)} MB over 20,000 traced requests`)
    const metrics = await (await fetch(`${service.url}/metrics`)).text()
    // 30,000 requests make well over 60,000 spans; a 512-span queue behind a refusing collector drops most.
    assert.ok(dropped(metrics, 'queue_full') + dropped(metrics, 'export_failed') > 20_000, metrics)
    assert.ok(dropped(metrics, 'export_failed') > 0)
    assert.ok(receiver.requests > 0, 'the exporter kept trying')
  })

  test('gone (connection refused): requests still succeed and the count keeps rising', async () => {
    const first = await (await fetch(`${service.url}/metrics`)).text()
    const before = dropped(first, 'queue_full') + dropped(first, 'export_failed')
    await receiver.close()
    await run(3_000)
    const metrics = await (await fetch(`${service.url}/metrics`)).text()
    assert.ok(dropped(metrics, 'queue_full') + dropped(metrics, 'export_failed') > before)
  })
})
