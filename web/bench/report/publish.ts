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
  if (toDoc) publish(markdown, report.options.replicas)
  return `${join(RESULTS_DIR, `bench-${stamp}.{json,md}`)}${toDoc ? ` and ${DOC}` : ''}`
}

/**
 * Each number of replicas has its own section in docs/benchmarks.md, between its own markers, so
 * that a run with two replicas does not replace the one-replica table.
 */
function markers(replicas: number): { start: string; end: string } {
  const name = replicas === 1 ? 'bench' : `bench:replicas-${replicas}`
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` }
}

function sectionIn(doc: string, replicas: number): { from: number; to: number } {
  const { start, end } = markers(replicas)
  const from = doc.indexOf(start)
  const to = doc.indexOf(end)
  if (from < 0 || to < from)
    throw new Error(`${DOC} lacks the ${start} ... ${end} markers for a run with ${replicas} replica(s)`)
  return { from: from + start.length, to }
}

/** The doc as it stands; a fresh one holds only the one-replica section. */
function currentDoc(): string {
  const { start, end } = markers(1)
  return existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Benchmarks\n\n${start}\n${end}\n`
}

/** Called before the run, so that --publish with nowhere to publish fails before it measures. */
export function checkPublishable(replicas: number): void {
  sectionIn(currentDoc(), replicas)
}

/** Replaces what lies between the run's markers in docs/benchmarks.md, and nothing else. */
function publish(markdown: string, replicas: number): void {
  const current = currentDoc()
  const { from, to } = sectionIn(current, replicas)
  writeFileSync(DOC, current.slice(0, from) + '\n' + markdown + current.slice(to))
}
