// The report as Markdown: the table printed at the end of a run and published into docs/benchmarks.md.
import { RSS_LIMIT_MB } from '../scenarios/routes.js'
import { usPerRequest } from '../sampling/cpu.js'
import type { Report } from './report.js'

export function toMarkdown(report: Report): string {
  const { options: o } = report
  const several = o.replicas > 1
  const lines = [
    `Run of ${report.date}: ${several ? `${o.replicas} service replicas, ${o.connections} connections split between them` : `one service process, ${o.connections} connections`}, ${o.durationS} s per route after a ${o.warmupS} s warm-up` +
      (o.rounds > 1 ? `, ${o.rounds} rounds (each route reported by its median round)` : '') +
      (o.rows > 0
        ? `, ${o.rows.toLocaleString('en-US')} logged visits preloaded before the visit route was measured again`
        : '') +
      (o.interleave
        ? '. The ceiling was measured before every route and at the end; each ratio is against the ceiling runs on either side of the route.'
        : '. The ceiling was measured once, first.') +
      (several
        ? ` The ${o.replicas} replicas were loaded together: req/s, non-2xx and errors are their sum; p50 and p99 the worst replica's; peak RSS the largest replica's; server CPU the sum over the replicas. The ceiling is one process, so a ratio above 1 is possible.`
        : ''),
    '',
    `| route | req/s | ratio to ceiling | target | p50 ms | p99 ms | non-2xx | errors | peak RSS MB${several ? ' per replica' : ''} | CPU cores: server${several ? ' (all replicas)' : ''} / Redis / PostgreSQL / load generator | server CPU µs per request | verdict |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|'
  ]
  for (const r of report.results) {
    lines.push(
      `| ${r.route} | ${r.requestsPerS} | ${r.ratio === null ? '1' : r.ratio.toFixed(2)} | ${r.goal === null ? '' : `≥ ${r.goal.toFixed(2)}`} | ${r.p50Ms} | ${r.p99Ms} | ${r.non2xx} | ${r.errors} | ${r.peakRssMb ?? ''} | ${r.cpu === null ? '' : [r.cpu.server, r.cpu.redis, r.cpu.postgres, r.cpu.load].map((c) => c.toFixed(2)).join(' / ')} | ${r.cpu === null ? '' : (usPerRequest(r.cpu.server, r.requestsPerS) ?? '')} | ${r.verdict} |`
    )
  }
  lines.push('')
  lines.push(
    `Service RSS${several ? ' per replica' : ''}: ${report.idleRssMb} MB idle, ${report.peakRssMb} MB peak under load (target < ${RSS_LIMIT_MB} MB: ${report.peakRssMb < RSS_LIMIT_MB ? 'met' : 'MISSED'}).`
  )
  const phases = [...new Set(report.visitChecks.map((c) => c.phase))].map((phase) => {
    const checks = report.visitChecks.filter((c) => c.phase === phase)
    return {
      phase: checks.length > 1 ? `${phase}, ${checks.length} runs` : phase,
      acknowledged: checks.reduce((n, c) => n + c.acknowledged, 0),
      committed: checks.reduce((n, c) => n + c.committed, 0),
      logged: checks.reduce((n, c) => n + c.logged, 0),
      exact: checks.every((c) => c.exact)
    }
  })
  for (const c of phases) {
    lines.push(
      `Visits (${c.phase}): ${c.acknowledged} acknowledged, ${c.committed} added to the counter, ${c.logged} log rows: ${c.exact ? 'exact (every acknowledged visit committed; the rest were cut off in flight at the end of the run)' : 'MISMATCH'}.`
    )
  }
  const visits = report.results.filter((r) => r.kind === 'visit')
  if (visits.length === 2 && visits[0] !== undefined && visits[1] !== undefined) {
    const [empty, full] = visits
    const pct = (a: number, b: number): string => `${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)} %`
    const byRatio =
      empty.ratio !== null && full.ratio !== null
        ? (full.ratio / empty.ratio - 1) * 100
        : (full.requestsPerS / empty.requestsPerS - 1) * 100
    lines.push(
      `Visit route with the full log vs the empty one: ${pct(full.requestsPerS, empty.requestsPerS)} in req/s, ` +
        `${byRatio >= 0 ? '+' : ''}${byRatio.toFixed(1)} % in ratio to the ceiling (target: no more than 10 % slower: ${byRatio >= -10 ? 'met' : 'MISSED'}).`
    )
  }
  lines.push('', '| machine | |', '|---|---|')
  for (const [k, v] of Object.entries(report.machine)) lines.push(`| ${k} | ${v} |`)
  return lines.join('\n') + '\n'
}
