// Guarantee 7: a bounded soak. 60 s of mixed reads and writes against the real server process,
// after a 15 s warm-up: no errors, visits counted exactly, and the process RSS at the end within
// 15 % of its value after the warm-up. RSS swings by tens of MiB with each garbage collection
// cycle (about 20-30 s here), so both values are means of 1 s samples over 20 s: the first 20 s
// after the warm-up, and the last 20 s of the soak. The raw values are printed too.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Load, describeStats, type RequestSpec, liveServiceForFile, call, visitCounts } from '../helpers/index.js'

const WARMUP_MS = 15_000
const SOAK_MS = Number(process.env.SOAK_SECONDS ?? 60) * 1000
const CONNECTIONS = 16

// A hung test fails instead of holding up the run.
const LIMIT_MS = SOAK_MS + 120_000

const live = liveServiceForFile({ NODE_ENV: 'production' })

async function heapUsedMiB(): Promise<string> {
  const text = await (await fetch(`${live.service.url}/metrics`)).text()
  const bytes = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1])
  return (bytes / 1024 / 1024).toFixed(1)
}

function mix(userId: number): (n: number) => RequestSpec {
  return (n) => {
    switch (n % 10) {
      case 0:
      case 1:
      case 2:
        return { path: '/' }
      case 3:
        return { path: '/visits' }
      case 4:
        return { path: `/users?limit=5&offset=${(n % 3) * 5}` }
      case 5:
        return { path: `/users/${(n % 10) + 1}` }
      case 6:
        return {
          method: 'POST',
          path: '/cache',
          json: { key: `soak-${n % 500}`, value: { n, text: 'x'.repeat(200), list: [1, 2, 3] }, ttl: 600 }
        }
      case 7:
        return { path: '/cache/soak-fixed' }
      case 8:
        return { path: '/health' }
      default:
        return { method: 'PATCH', path: `/users/${userId}`, json: { username: `soak-${n}` } }
    }
  }
}

test(
  `soak: ${SOAK_MS / 1000} s of mixed load after a ${WARMUP_MS / 1000} s warm-up`,
  { timeout: LIMIT_MS },
  async () => {
    const created = await call(live.service.url, '/users', {
      method: 'POST',
      json: { username: 'soak', email: 'soak@example.com' }
    })
    assert.equal(created.status, 201)
    assert.equal(
      (
        await call(live.service.url, '/cache', {
          method: 'POST',
          json: { key: 'soak-fixed', value: 'here', ttl: 3600 }
        })
      ).status,
      201
    )
    const next = mix(Number(created.body.id))

    const rssStart = live.service.rssKb()
    const samples: Array<{ at: number; kb: number }> = []
    const sampler = setInterval(() => samples.push({ at: performance.now(), kb: live.service.rssKb() }), 1000)
    const meanBetween = (from: number, to: number) => {
      const window = samples.filter((s) => s.at > from && s.at <= to)
      return window.reduce((sum, s) => sum + s.kb, 0) / window.length
    }
    try {
      // Warm up for 15 s and at least 20,000 requests (at most 15 s more), so that the JIT and the
      // heap reach their working size before the baseline is taken, even on a slow machine.
      const warmup = await new Load({ url: live.service.url, connections: CONNECTIONS, durationMs: WARMUP_MS, next })
        .done
      if (warmup.sent < 20_000) {
        const more = await new Load({
          url: live.service.url,
          connections: CONNECTIONS,
          durationMs: 15_000,
          amount: 20_000 - warmup.sent,
          next
        }).done
        warmup.sent += more.sent
        warmup.ok += more.ok
        warmup.elapsedMs += more.elapsedMs
        for (const [status, n] of Object.entries(more.byStatus))
          warmup.byStatus[status] = (warmup.byStatus[status] ?? 0) + n
      }
      const heapAfterWarmup = await heapUsedMiB()
      const warmupEnd = performance.now()
      const rssAfterWarmup = live.service.rssKb()
      const totalBefore = (await visitCounts(live.pg)).total

      let visitsOk = 0
      let unexpected = ''
      const load = new Load({
        url: live.service.url,
        connections: CONNECTIONS,
        durationMs: SOAK_MS,
        next,
        onOutcome: (o) => {
          if (o.spec.path === '/' && o.status === 200) visitsOk++
          if ((o.status < 200 || o.status >= 300) && unexpected === '')
            unexpected = `${o.spec.method ?? 'GET'} ${o.spec.path} -> ${o.status} ${o.error ?? o.body.slice(0, 200)}`
        }
      })
      const stats = await load.done
      const soakEnd = performance.now()
      const rssEnd = live.service.rssKb()
      const totalAfter = (await visitCounts(live.pg)).total
      const heapAtEnd = await heapUsedMiB()
      const baseline = meanBetween(warmupEnd, warmupEnd + 20_000)
      const final = meanBetween(soakEnd - 20_000, soakEnd)
      const peak = Math.max(...samples.map((s) => s.kb), rssEnd)
      const growth = (final - baseline) / baseline
      const mib = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`
      const series = samples.filter((_, i) => i % 10 === 9).map((s) => Math.round(s.kb / 1024))
      console.log(`soak: RSS every 10 s from the start of the warm-up (MiB): ${series.join(' ')}`)
      console.log(describeStats('soak warm-up', warmup))
      console.log(describeStats('soak', stats))
      console.log(
        `soak: RSS at start ${mib(rssStart)}, right after warm-up ${mib(rssAfterWarmup)}, right at the end ${mib(rssEnd)}, peak ${mib(peak)}; ` +
          `mean over the first 20 s after warm-up ${mib(baseline)}, over the last 20 s ${mib(final)} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} %); ` +
          `V8 heap used ${heapAfterWarmup} MiB after warm-up, ${heapAtEnd} MiB at the end; visits 200 ${visitsOk}, database total ${totalBefore} -> ${totalAfter} (+${totalAfter - totalBefore})`
      )

      assert.equal(unexpected, '', 'every request of the soak succeeded')
      assert.equal(stats.serverErrors, 0)
      assert.equal(stats.clientErrors, 0)
      assert.deepEqual(stats.failures, {})
      assert.equal(stats.ok, stats.sent)
      assert.equal(totalAfter - totalBefore, visitsOk, 'visits counted exactly')
      assert.ok(final <= baseline * 1.15, `RSS grew ${(growth * 100).toFixed(1)} % (limit 15 %)`)
      assert.ok((await call(live.service.url, '/health')).status === 200)
    } finally {
      clearInterval(sampler)
    }
  }
)
