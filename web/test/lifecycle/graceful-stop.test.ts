// Guarantee 4: graceful stop under load. SIGTERM to the real server process while requests are in
// flight: every request accepted before the signal completes, new connections are refused, the
// process exits 0 within 10 s after closing its pool and its Redis connection.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Load, describeStats, send, type Outcome, liveServiceForFile, visitCounts } from '../helpers/index.js'
import http from 'node:http'
import pgDriver from 'pg'

// A hung test fails instead of holding up the run.
const LIMIT_MS = 120_000

const live = liveServiceForFile({ LOG_LEVEL: 'info' })

function tcpConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}

async function serviceConnections(): Promise<{ db: number; cache: number }> {
  const [{ n }] = await live.pg.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'web-db-cache'"
  )
  const clients = await live.redis.command((r) => r.client('LIST') as Promise<string>)
  return { db: n, cache: clients.split('\n').filter((line) => line.includes('name=web-db-cache')).length }
}

test(
  'SIGTERM with requests in flight: they all complete, new connections are refused, exit 0 within 10 s',
  { timeout: LIMIT_MS },
  async () => {
    const start = await visitCounts(live.pg)
    const outcomes: Outcome[] = []
    const load = new Load({
      url: live.service.url,
      connections: 16,
      durationMs: 30_000,
      timeoutMs: 20_000,
      next: () => ({ path: '/' }),
      onOutcome: (o) => outcomes.push(o)
    })
    await sleep(1500)
    const connectedBefore = await serviceConnections()

    // Hold the counter row locked so that a known set of requests is certainly inside the service
    // (read, routed, waiting on their commit) when the signal arrives: the 16 load connections plus
    // 40 requests on fresh connections. The lock is released well inside the statement timeout.
    const locker = new pgDriver.Client({ connectionString: live.pg.url })
    await locker.connect()
    await locker.query('BEGIN')
    await locker.query("SELECT total FROM visit_counter WHERE label = 'homepage' FOR UPDATE")
    const oneShot = new http.Agent({ keepAlive: false })
    const base = new URL(live.service.url)
    const held = Array.from({ length: 40 }, () => send(oneShot, base, { path: '/' }, 20_000))
    await sleep(800)
    live.service.child.kill('SIGTERM')
    const signalledAt = performance.now()

    await sleep(400)
    const newConnection = await tcpConnect(live.service.port)
    await locker.query('COMMIT')
    await locker.end()

    const exit = await live.service.exited
    const exitMs = Math.round(performance.now() - signalledAt)
    const heldOutcomes = await Promise.all(held)
    const stats = await load.stop()
    oneShot.destroy()
    const end = await visitCounts(live.pg)
    const left = await serviceConnections()

    const beforeSignal = [...outcomes.filter((o) => o.sentAt < signalledAt), ...heldOutcomes]
    const afterSignal = outcomes.filter((o) => o.sentAt >= signalledAt)
    const inFlight = beforeSignal.filter((o) => o.sentAt + o.ms > signalledAt)
    const okVisits = [...outcomes, ...heldOutcomes].filter((o) => o.status === 200).length
    const log = live.service.output()
    console.log(describeStats('graceful stop (load)', stats))
    console.log(
      `graceful stop: ${inFlight.length} requests in flight at SIGTERM (${inFlight.filter((o) => o.status === 200).length} completed with 200), ` +
        `${afterSignal.length} sent after it (${JSON.stringify(Object.fromEntries(afterSignal.map((o) => [o.error ?? o.status, afterSignal.filter((x) => (x.error ?? x.status) === (o.error ?? o.status)).length])))}); ` +
        `new TCP connection 400 ms after SIGTERM: ${newConnection}; exit code ${exit.code} after ${exitMs} ms; ` +
        `database total ${start.total} -> ${end.total} (+${end.total - start.total}), 200s ${okVisits}; ` +
        `service connections before ${JSON.stringify(connectedBefore)}, after exit ${JSON.stringify(left)}`
    )

    assert.ok(inFlight.length >= 56, `the 16 load requests and the 40 held ones were in flight (${inFlight.length})`)
    for (const o of beforeSignal)
      assert.equal(o.status, 200, `a request sent before SIGTERM ended with ${o.status} ${o.error ?? ''}`)
    for (const o of afterSignal) assert.ok(o.status === 0, `a request sent after SIGTERM was answered ${o.status}`)
    assert.equal(newConnection, 'ECONNREFUSED', 'new connections are refused once stopping')
    assert.equal(exit.code, 0)
    assert.ok(exitMs < 10_000, `exited within 10 s (${exitMs} ms)`)
    assert.match(log, /shutting down: finishing in-flight requests/)
    assert.match(log, /stopped cleanly/, 'the pool and the Redis connection were closed before exit')
    assert.doesNotMatch(log, /killed by timeout/)
    assert.equal(end.total - start.total, okVisits, 'every 200 is counted, and nothing else')
    assert.equal(end.logged - start.logged, okVisits)
    assert.ok(connectedBefore.db > 0 && connectedBefore.cache > 0)
    assert.deepEqual(left, { db: 0, cache: 0 }, 'no PostgreSQL or Redis connection of the service is left open')
  }
)
