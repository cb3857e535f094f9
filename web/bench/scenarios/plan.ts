// The order of the runs, and how long the whole may take before it is stopped.
import type { Options } from '../options.js'
import { ROUTES, type Route } from './routes.js'

export interface Step {
  route: Route
  label?: string
  /** Load --rows logged visits before this run. */
  preload?: boolean
}

/**
 * The machine is shared: with --interleave (the default) the ceiling is measured again before
 * every route and at the end, so that each route can be compared with the ceiling runs on either
 * side of it. With --rows: the preload, then the visit route again, as many rounds, against the
 * same ceiling.
 */
export function planRuns(options: Options, selected: Route[]): Step[] {
  const ceilingRoute = selected.find((r) => r.kind === 'ceiling') ?? (ROUTES[0] as Route)
  const serviceRoutes = selected.filter((r) => r.kind !== 'ceiling')
  const plan: Step[] = []
  const loggedLabel = (route: Route): string => `${route.name}, ${options.rows.toLocaleString('en-US')} logged`
  for (let round = 0; round < options.rounds; round++) {
    if (!options.interleave && round === 0) plan.push({ route: ceilingRoute })
    for (const route of serviceRoutes) {
      if (options.interleave) plan.push({ route: ceilingRoute })
      plan.push({ route, label: route.kind === 'visit' && options.rows > 0 ? `${route.name}, empty log` : route.name })
    }
  }
  const visitRoute = serviceRoutes.find((r) => r.kind === 'visit')
  if (options.rows > 0 && visitRoute !== undefined) {
    for (let round = 0; round < options.rounds; round++) {
      if (options.interleave) plan.push({ route: ceilingRoute })
      plan.push({ route: visitRoute, label: loggedLabel(visitRoute), preload: round === 0 })
    }
  }
  if (options.interleave) plan.push({ route: ceilingRoute })
  return plan
}

/** Generous: start-up (a minute more for each further replica), every run twice over, and the preload. */
export function timeBudgetS(options: Options, selected: Route[]): number {
  const perRoute = options.warmupS + options.durationS + 5
  return (
    180 +
    60 * (options.replicas - 1) +
    2 * options.rounds * (selected.length + (options.rows > 0 ? 1 : 0)) * perRoute +
    Math.ceil(options.rows / 50_000)
  )
}
