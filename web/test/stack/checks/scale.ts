// The proxy in front of web: `compose up --scale web=3` works (web publishes no port), requests
// through the proxy reach every replica, visits counted through it are exact in PostgreSQL, and
// killing a replica under load fails next to no idempotent request (the proxy retries them).
import { report } from '../lib/report.js'
import { expect, get, isRecord } from '../lib/json.js'
import { must, sleep, waitUntil } from '../lib/process.js'
import { countsInPostgres, describe, hostsSeen, load, visitsExact } from '../traffic.js'
import { http, url } from '../http.js'
import { docker } from '../engine.js'
import { compose, containerOf, inspect, PROJECT_LABEL, STAND_IN_IMAGES as IMAGES } from '../stack.js'

const REPLICAS = 3

async function webContainers(): Promise<string[]> {
  const r = await must(
    'web containers',
    docker(['ps', '-q', '--filter', PROJECT_LABEL, '--filter', 'label=com.docker.compose.service=web'])
  )
  return r.stdout.split('\n').filter(Boolean)
}

/** One command to HAProxy's runtime API, from inside the proxy container (see proxy/haproxy.cfg). */
async function runtime(command: string): Promise<string> {
  const script = `exec 3<>/dev/tcp/127.0.0.1/9999 && echo "${command}" >&3 && cat <&3`
  return (await must(`runtime API: ${command}`, compose(['exec', '-T', 'proxy', 'bash', '-c', script], 30_000))).stdout
}

export async function checkScale(): Promise<void> {
  await report.phase(`compose up -d --scale web=${REPLICAS}`, async () => {
    await must('compose up --scale', compose(['up', '-d', '--no-build', '--scale', `web=${REPLICAS}`], 180_000, IMAGES))
    await waitUntil(`${REPLICAS} web containers`, 60_000, async () =>
      (await webContainers()).length === REPLICAS ? true : undefined
    )
  })

  await report.check('web publishes no host port: the proxy is the only way in', async () => {
    for (const id of await webContainers()) {
      const ports = get(await inspect(id), 'HostConfig', 'PortBindings')
      expect(ports === null || Object.keys(ports as object).length === 0, `web ${id} binds ${JSON.stringify(ports)}`)
    }
    return `${REPLICAS} web containers, none with a host port`
  })

  await report.check(`requests through the proxy reach all ${REPLICAS} replicas (by hostname in /health)`, async () => {
    const ids = await webContainers()
    const t = Date.now()
    // A new replica joins the proxy's pool once DNS names it and it passes two health checks.
    await waitUntil('every replica answering through the proxy', 90_000, async () =>
      (await hostsSeen(REPLICAS * 4)).size === REPLICAS ? true : undefined
    )
    const seen = await hostsSeen(60)
    expect(seen.size === REPLICAS, `hosts: ${JSON.stringify([...seen])}`)
    for (const host of seen.keys())
      expect(
        ids.some((id) => id.startsWith(host)),
        `${host} is not one of the containers ${ids.join(', ')}`
      )
    return `all in rotation ${((Date.now() - t) / 1000).toFixed(1)}s after start; 60 requests: ${[...seen.values()].join('/')}`
  })

  await report.check("the proxy's runtime API drains one replica out of rotation and back", async () => {
    const state = await runtime('show servers state web')
    // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state (2 = running) ...
    const running = state
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => f[1] === 'web' && f[5] === '2')
    expect(running.length === REPLICAS, `running servers: ${running.length}\n${state}`)
    const name = running[0]?.[3] ?? ''
    await runtime(`set server web/${name} state drain`)
    const drained = await hostsSeen(REPLICAS * 4)
    await runtime(`set server web/${name} state ready`)
    expect(drained.size === REPLICAS - 1, `while ${name} drains, answering: ${[...drained.keys()].join(', ')}`)
    await waitUntil('the drained replica back in rotation', 30_000, async () =>
      (await hostsSeen(REPLICAS * 4)).size === REPLICAS ? true : undefined
    )
    return `${name} drained: ${REPLICAS * 4} requests over ${drained.size} replicas; back after "state ready"`
  })

  await report.check('X-Request-Id: the client’s kept through the proxy, one made when absent', async () => {
    const given = await fetch(url('/livez'), { headers: { 'x-request-id': 'stack-test-42' } })
    expect(given.headers.get('x-request-id') === 'stack-test-42', `got ${given.headers.get('x-request-id')}`)
    const made = await fetch(url('/livez'))
    const id = made.headers.get('x-request-id') ?? ''
    expect(/^[0-9a-f-]{36}$/.test(id), `made id ${id}`)
    return `kept stack-test-42; made ${id}`
  })

  await report.check(
    'a forged X-Forwarded-For does not reach the service: it logs the address the proxy saw',
    async () => {
      const id = `xff-probe-${Date.now()}`
      const r = await http('/visits', { headers: { 'x-request-id': id, 'x-forwarded-for': '203.0.113.9' } })
      expect(r.status === 200, `GET /visits: ${r.status}`)
      const line = await waitUntil('the request in the web logs', 20_000, async () => {
        const logs = await compose(['logs', '--no-color', 'web'], 30_000)
        return logs.stdout.split('\n').find((l) => l.includes(id) && l.includes('remoteAddress'))
      })
      const address = /"remoteAddress":"([^"]+)"/.exec(line)?.[1] ?? ''
      expect(address !== '' && address !== '203.0.113.9', `the service saw ${address || 'no address'}: ${line}`)
      // Nor the proxy's own address: TRUST_PROXY made the service take the client's from the header.
      const networks = get(await inspect(await containerOf('proxy')), 'NetworkSettings', 'Networks')
      const proxyAddresses = Object.values(isRecord(networks) ? networks : {}).map((n) => get(n, 'IPAddress'))
      expect(!proxyAddresses.includes(address), `the service saw the proxy (${address}), not the client`)
      return `the service logged the client ${address}, not the forged 203.0.113.9 nor the proxy ${proxyAddresses.join('/')}`
    }
  )

  await report.check('visits counted through the proxy over all replicas are exact in PostgreSQL', () =>
    visitsExact(countsInPostgres, 8)
  )

  await report.check('killing one replica under load: idempotent requests do not fail', async () => {
    const [victim] = await webContainers()
    expect(victim !== undefined, 'no web container')
    const before = await countsInPostgres()
    let stopping = false
    const started = Date.now()
    const reads = load('/visits', 6, () => stopping)
    const writes = load('/', 2, () => stopping)
    await sleep(2000)
    await must('docker kill', docker(['kill', victim], 30_000))
    await sleep(6000)
    stopping = true
    const [r, w] = await Promise.all([reads, writes])
    const seconds = (Date.now() - started) / 1000
    const after = await countsInPostgres()
    const counted = after.total - before.total
    // A visit whose replica died before answering may or may not have been counted, never twice.
    expect(
      counted >= w.ok && counted <= w.ok + w.failed,
      `acknowledged ${w.ok}, failed ${w.failed}, counted ${counted}`
    )
    expect(after.total - before.total === after.logged - before.logged, 'counter and log disagree')
    expect(r.failed <= Math.max(1, r.sent * 0.005), `GET /visits: ${describe(r)}`)
    const left = await hostsSeen(REPLICAS * 4)
    expect(left.size === REPLICAS - 1, `after the kill, answering: ${[...left.keys()].join(', ')}`)
    return `${seconds.toFixed(1)}s; GET /visits ${describe(r)}; GET / ${describe(w)}, ${counted} counted`
  })
}
