// `--against REF`: this tree's service and the one built from REF, side by side on the same machine,
// each on its own PostgreSQL and Redis, loaded in turn route by route, so that both meet the same
// noise. Answers "is this change faster?" when the machine's speed drifts more than the change.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { log } from './log.js'
import { measure, type Run, type Targets } from './measure.js'
import type { Options } from './options.js'
import { REPO_DIR, RESULTS_DIR } from './paths.js'
import { startDatabases } from './processes/databases.js'
import { trackServer } from './processes/lifecycle.js'
import { buildService, serviceNodeArgs, startReplicas } from './processes/service.js'
import { median } from './report/summary.js'
import { redisPids, usPerRequest } from './sampling/cpu.js'
import { putFixtures, type Route } from './scenarios/routes.js'

const git = (args: string[], cwd = REPO_DIR): string => {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr.trim()}`)
  return result.stdout.trim()
}

/** REF checked out in a temporary worktree (removed at the end) and built; returns its web/ folder. */
function buildAt(ref: string): { webDir: string; commit: string } {
  const commit = git(['rev-parse', '--verify', `${ref}^{commit}`])
  const dir = mkdtempSync(join(tmpdir(), 'wdc-bench-against-'))
  const tree = join(dir, 'tree')
  trackServer({
    destroy: async () => {
      spawnSync('git', ['worktree', 'remove', '--force', tree], { cwd: REPO_DIR })
      rmSync(dir, { recursive: true, force: true })
    }
  })
  git(['worktree', 'add', '--detach', tree, commit])
  // The workspace's packages are installed once, at the root; the other tree uses them as they are.
  symlinkSync(join(REPO_DIR, 'node_modules'), join(tree, 'node_modules'))
  if (existsSync(join(REPO_DIR, 'web', 'node_modules')))
    symlinkSync(join(REPO_DIR, 'web', 'node_modules'), join(tree, 'web', 'node_modules'))
  log(`building ${ref} (${commit.slice(0, 12)}) in ${tree}`)
  const built = spawnSync('npm', ['run', 'build'], { cwd: join(tree, 'web'), stdio: ['ignore', 'ignore', 'inherit'] })
  if (built.status !== 0) throw new Error(`npm run build failed for ${ref}`)
  return { webDir: join(tree, 'web'), commit }
}

interface Side {
  name: string
  targets: Targets
  runs: Map<string, Run[]>
}

async function startSide(name: string, entry: string, nodeArgs: string[]): Promise<Side> {
  const databases = await startDatabases()
  const [service] = await startReplicas(entry, nodeArgs, databases, 1)
  log(`${name}: service on ${service.url} (pid ${service.pid})`)
  await putFixtures(service.url)
  const targets = { services: [service], pg: databases.pg, redisPids: redisPids(databases.redis.port) }
  return { name, targets, runs: new Map() }
}

const middle = (values: Array<number | null>): number | undefined =>
  median(
    values.filter((v) => v !== null),
    (v) => v
  )

/** Loads each route on both services in turn for `rounds` rounds (ABBA order) and writes the comparison. */
export async function compare(options: Options, routes: Route[]): Promise<boolean> {
  const ref = options.against as string
  const here = await startSide('this tree', buildService(options.build), serviceNodeArgs(options))
  const other = buildAt(ref)
  const there = await startSide(
    ref,
    join(other.webDir, 'dist', 'src', 'server.js'),
    serviceNodeArgs(options, other.webDir)
  )
  const serviceRoutes = routes.filter((route) => route.target === 'service')
  for (let round = 0; round < options.rounds; round++)
    for (const route of serviceRoutes)
      for (const side of round % 2 === 0 ? [here, there] : [there, here]) {
        const run = await measure(route, `${route.name} (${side.name})`, side.targets, options)
        side.runs.set(route.name, [...(side.runs.get(route.name) ?? []), run])
      }

  const lines = [
    `Comparison of ${new Date().toISOString()}: this tree against ${ref} (${other.commit.slice(0, 12)}), each on its own PostgreSQL and Redis, ${options.connections} connections, ${options.durationS} s per route after a ${options.warmupS} s warm-up, ${options.rounds} rounds, loaded in turn (the order alternates each round).`,
    '',
    `| route | req/s, this tree | req/s, ${ref} | ratio per round (this tree / ${ref}) | rounds faster | CPU µs per request | p99 ms |`,
    '|---|---:|---:|---|---:|---|---|'
  ]
  let exact = true
  for (const route of serviceRoutes) {
    const a = here.runs.get(route.name) ?? []
    const b = there.runs.get(route.name) ?? []
    const ratios = a.map((run, i) => run.load.requestsPerS / (b[i]?.load.requestsPerS ?? NaN))
    const rps = (runs: Run[]) => Math.round(middle(runs.map((run) => run.load.requestsPerS)) ?? 0)
    const cpu = (runs: Run[]) => middle(runs.map((run) => usPerRequest(run.cpu.server, run.load.requestsPerS)))
    const p99 = (runs: Run[]) => middle(runs.map((run) => run.load.latencyMs.p99))
    lines.push(
      `| ${route.name} | ${rps(a)} | ${rps(b)} | ${ratios.map((r) => r.toFixed(2)).join(' ')} | ${ratios.filter((r) => r > 1).length} of ${ratios.length} | ${cpu(a)} against ${cpu(b)} | ${p99(a)} against ${p99(b)} |`
    )
    exact &&= [...a, ...b].every((run) => run.visits?.exact ?? true)
  }
  const markdown = lines.join('\n') + '\n'
  const file = join(RESULTS_DIR, `compare-${new Date().toISOString().replace(/[:.]/g, '-')}.md`)
  writeFileSync(file, markdown)
  process.stdout.write('\n' + markdown)
  log(`written to ${file}`)
  return exact
}
