// Where the benchmark reads and writes, whichever file asks.
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

export const WEB_DIR = fileURLToPath(new URL('..', import.meta.url))
export const REPO_DIR = join(WEB_DIR, '..')
export const RESULTS_DIR = join(REPO_DIR, 'bench-results')
export const PROF_DIR = join(RESULTS_DIR, 'prof')
export const DOC = join(REPO_DIR, 'docs', 'benchmarks.md')
