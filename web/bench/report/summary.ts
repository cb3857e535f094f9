// From runs to results: the ceiling's median, each route's ratio to the ceiling, its median round and its verdict.
import type { Run } from '../measure.js'
import type { CpuUse } from '../sampling/cpu.js'
import { P99_LIMIT_MS, type Kind } from '../scenarios/routes.js'

export interface Measured {
  route: string
  path: string
  method: string
  kind: Kind
  requestsPerS: number
  ratio: number | null
  goal: number | null
  p50Ms: number
  p99Ms: number
  non2xx: number
  errors: number
  peakRssMb: number | null
  /** Cores in use during the run (CPU seconds per second), by process. */
  cpu: CpuUse | null
  verdict: string
}

/** The lower middle with an even count: never flatter a route. */
export function median<T>(items: T[], key: (item: T) => number): T | undefined {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor((items.length - 1) / 2)]
}

export function summarise(runs: Run[], interleave: boolean): Measured[] {
  const ceilingRuns = runs.filter((r) => r.route.kind === 'ceiling')
  const ceilings = ceilingRuns.map((r) => r.load.requestsPerS)
  const medianCeiling = median(ceilings, (n) => n) ?? 0
  const results: Measured[] = []
  const ceiling = ceilingRuns[0]
  if (ceiling !== undefined) results.push(ceilingResult(ceiling, ceilingRuns, medianCeiling))
  // Each service run against the ceiling runs on either side of it; with several rounds, the
  // route is reported by its median round.
  const rated = runs.flatMap((run, i) => {
    if (run.route.kind === 'ceiling') return []
    const near = [runs[i - 1], runs[i + 1]]
      .filter((r) => r?.route.kind === 'ceiling')
      .map((r) => r?.load.requestsPerS ?? 0)
    const reference = interleave && near.length > 0 ? near.reduce((a, b) => a + b, 0) / near.length : medianCeiling
    return [{ ...run, ratio: reference === 0 ? 0 : run.load.requestsPerS / reference }]
  })
  for (const label of new Set(rated.map((r) => r.label))) {
    const all = rated.filter((r) => r.label === label)
    const run = median(all, (r) => r.ratio)
    if (run !== undefined) results.push(routeResult(run, all))
  }
  return results
}

function ceilingResult(first: Run, ceilingRuns: Run[], medianCeiling: number): Measured {
  const route = first.route
  const sorted = ceilingRuns.map((r) => r.load.requestsPerS).sort((a, b) => a - b)
  const count = ceilingRuns.length
  return {
    route: count > 1 ? `${route.name}, median of ${count}` : route.name,
    path: route.path,
    method: route.method,
    kind: 'ceiling',
    requestsPerS: Math.round(medianCeiling),
    ratio: null,
    goal: null,
    p50Ms: first.load.latencyMs.p50,
    p99Ms: first.load.latencyMs.p99,
    non2xx: ceilingRuns.reduce((n, r) => n + r.load.non2xx, 0),
    errors: ceilingRuns.reduce((n, r) => n + r.load.errors + r.load.timeouts, 0),
    peakRssMb: null,
    cpu: median(ceilingRuns, (r) => r.load.requestsPerS)?.cpu ?? null,
    verdict: count > 1 ? `range ${Math.round(sorted[0] ?? 0)}–${Math.round(sorted[sorted.length - 1] ?? 0)}` : ''
  }
}

function routeResult(run: Run & { ratio: number }, all: Array<Run & { ratio: number }>): Measured {
  const { load, ratio, route } = run
  const verdicts: string[] = []
  if (route.goal !== undefined) verdicts.push(ratio >= route.goal ? 'ratio met' : 'ratio MISSED')
  if (route.kind === 'cached-read') verdicts.push(load.latencyMs.p99 < P99_LIMIT_MS ? 'p99 met' : 'p99 MISSED')
  const failures = all.reduce((n, r) => n + r.load.non2xx + r.load.errors + r.load.timeouts, 0)
  if (failures > 0) verdicts.push('FAILURES')
  if (all.length > 1) {
    const ratios = all.map((r) => r.ratio).sort((a, b) => a - b)
    verdicts.push(`median of ${all.length}, ratios ${ratios.map((r) => r.toFixed(2)).join('/')}`)
  }
  const peaks = all.map((r) => r.peak ?? 0)
  return {
    route: run.label,
    path: route.path,
    method: route.method,
    kind: route.kind,
    requestsPerS: Math.round(load.requestsPerS),
    ratio: Math.round(ratio * 1000) / 1000,
    goal: route.goal ?? null,
    p50Ms: load.latencyMs.p50,
    p99Ms: load.latencyMs.p99,
    non2xx: all.reduce((n, r) => n + r.load.non2xx, 0),
    errors: all.reduce((n, r) => n + r.load.errors + r.load.timeouts, 0),
    peakRssMb: Math.round(Math.max(...peaks)),
    cpu: run.cpu,
    verdict: verdicts.join(', ')
  }
}
