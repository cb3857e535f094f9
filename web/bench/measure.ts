// One run: a route under load for the warm-up and the measured seconds, with memory, CPU and visits sampled around it.
import { log } from './log.js'
import type { Options } from './options.js'
import { runLoad } from './processes/load.js'
import type { LoadResult } from './processes/load-generator.js'
import type { Listening } from './processes/wait.js'
import { postgresPids, startCpuMeter, type CpuUse } from './sampling/cpu.js'
import { sampleRss } from './sampling/memory.js'
import type { Route } from './scenarios/routes.js'
import { checkVisits, visitState, type VisitCheck } from './scenarios/visits.js'
import type { PgServer } from './servers.js'

export interface Run {
  cpu: CpuUse
  route: Route
  label: string
  load: LoadResult
  /** The service's peak RSS in MB, the largest of its replicas; null for the ceiling. */
  peak: number | null
  /** For the visit route: whether the counter and the log add up. */
  visits?: VisitCheck
}

export interface Targets {
  /** Absent when only the service is loaded (--against). */
  ceiling?: Listening
  /** The service's replicas, loaded together. */
  services: Listening[]
  pg: PgServer
  redisPids: number[]
}

type LoadOptions = Pick<Options, 'connections' | 'durationS' | 'warmupS'>

export async function measure(route: Route, label: string, targets: Targets, options: LoadOptions): Promise<Run> {
  const { pg } = targets
  const servers = route.target === 'service' ? targets.services : targets.ceiling && [targets.ceiling]
  if (servers === undefined) throw new Error('no ceiling in this run')
  for (const server of servers) {
    const probe = await fetch(server.url + route.path, {
      method: route.method,
      headers: route.headers,
      body: route.body
    })
    await probe.arrayBuffer()
    if (probe.status >= 300)
      throw new Error(
        `${label}: ${route.method} ${route.path} answered ${probe.status} on ${server.url} before the load`
      )
  }
  const pids = servers.map((server) => server.pid)
  const before = route.kind === 'visit' ? await visitState(pg) : undefined
  log(
    `${label}: ${options.warmupS} s warm-up + ${options.durationS} s at ${options.connections} connections${servers.length > 1 ? ` split over ${servers.length} replicas` : ''}`
  )
  const stopSampling = route.target === 'service' ? sampleRss(pids) : undefined
  const stopCpuMeter = startCpuMeter({ server: pids, redis: targets.redisPids, postgres: () => postgresPids(pg) })
  const load = await runLoad({
    urls: servers.map((server) => server.url + route.path),
    method: route.method,
    body: route.body,
    headers: route.headers,
    connections: options.connections,
    durationS: options.durationS,
    warmupS: options.warmupS
  })
  const peak = stopSampling?.() ?? null
  const cpu = stopCpuMeter(load)
  const visits = before === undefined ? undefined : await checkVisits(pg, label, before, load, options.connections)
  const byReplica = servers.length > 1 ? ` (${load.requestsPerSByUrl.map(Math.round).join(' + ')})` : ''
  log(
    `${label}: ${Math.round(load.requestsPerS)} req/s${byReplica}, p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms`
  )
  return { route, label, load, peak, cpu, visits }
}
