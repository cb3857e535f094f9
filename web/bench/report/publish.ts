// Where the report goes: bench-results/ always, docs/benchmarks.md with --publish.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DOC, RESULTS_DIR } from '../paths.js'
import type { Report } from './report.js'

/** Made at the start, so that a run that cannot write its results fails before it measures. */
export function makeResultsDir(): void {
  mkdirSync(RESULTS_DIR, { recursive: true })
}

/** Writes the run and the latest run as JSON and Markdown; returns where, for the log. */
export function saveResults(report: Report, markdown: string, toDoc: boolean): string {
  const stamp = report.date.replace(/[:.]/g, '-')
  writeFileSync(join(RESULTS_DIR, `bench-${stamp}.json`), JSON.stringify(report, null, 2) + '\n')
  writeFileSync(join(RESULTS_DIR, `bench-${stamp}.md`), markdown)
  writeFileSync(join(RESULTS_DIR, 'latest.json'), JSON.stringify(report, null, 2) + '\n')
  writeFileSync(join(RESULTS_DIR, 'latest.md'), markdown)
  if (toDoc) publish(markdown)
  return `${join(RESULTS_DIR, `bench-${stamp}.{json,md}`)}${toDoc ? ` and ${DOC}` : ''}`
}

/** Replaces what lies between the markers in docs/benchmarks.md, and nothing else. */
function publish(markdown: string): void {
  const start = '<!-- bench:start -->'
  const end = '<!-- bench:end -->'
  const current = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Benchmarks\n\n${start}\n${end}\n`
  const from = current.indexOf(start)
  const to = current.indexOf(end)
  if (from < 0 || to < from) throw new Error(`${DOC} lacks the ${start} ... ${end} markers`)
  writeFileSync(DOC, current.slice(0, from + start.length) + '\n' + markdown + current.slice(to))
}
