/**
 * `npm run bench`: the service against the framework's ceiling, in one run.
 *
 * Starts private PostgreSQL (fsync and synchronous_commit on) and Redis, the compiled service in
 * production mode, and a bare Fastify "hello world" as the ceiling; loads one route at a time with
 * autocannon (in a child process) and reports each route's throughput as a ratio to the ceiling
 * measured in the same run. Everything it starts, it stops, also on error, timeout or Ctrl-C.
 *
 *   --connections N   concurrent connections (32)
 *   --replicas N      run N service processes (1; up to 4) on N ports against the same PostgreSQL
 *                     and Redis, and load them together: the connections split between them, req/s
 *                     and counts summed, latency percentiles the worst replica's, peak RSS the
 *                     largest replica's, server CPU summed over the replicas; the ceiling stays one
 *                     process, so ratios above 1 are possible
 *   --duration S      measured seconds per route (10), after --warmup S (3)
 *   --rounds N        repeat the whole sequence N times (1) and report each route's median round
 *   --rows N          after the other routes, preload N logged visits (generate_series straight
 *                     into the log and the counter) and measure the visit route again, so the
 *                     empty-log and full-log numbers come from the same run
 *   --only a,b        run only these routes (names as in the table; the ceiling always runs)
 *   --cpu-prof        write a V8 CPU profile of the service (of each replica) to bench-results/prof/
 *   --no-build        use the existing web/dist
 *   --node-args ".."  Node flags for the service processes, after those of npm start (e.g. "--max-semi-space-size=16")
 *   --no-interleave   measure the ceiling once, first (default: before every route and at the end,
 *                     each route's ratio taken against the ceiling runs on either side of it)
 *   --publish         also write the result into docs/benchmarks.md (with --replicas 2, into its
 *                     "Two replicas" section)
 *   --against REF     instead of the ceiling, compare with the service built from git REF (in a
 *                     temporary worktree): both on their own PostgreSQL and Redis, each route loaded
 *                     on one then the other, --rounds times; prints req/s, the ratio per round, CPU
 *                     per request and p99, and writes bench-results/compare-<date>.md
 */

/*
 * The steps, each in a file named after its job:
 *   options.ts              the command line
 *   processes/              what the run starts and always stops: databases, ceiling, service, load generator
 *   scenarios/              the routes, the order of the runs, the visit counts that must add up
 *   measure.ts, sampling/   one run, with memory and CPU read from /proc around it
 *   compare.ts              --against: this tree's service and another commit's, in turn
 *   report/                 from runs to results, to Markdown, to bench-results/ and docs/benchmarks.md
 */
import { loadavg } from 'node:os'
import { compare } from './compare.js'
import { log } from './log.js'
import { measure, type Run } from './measure.js'
import { parseArgs } from './options.js'
import { PROF_DIR } from './paths.js'
import { startCeiling } from './processes/ceiling.js'
import { startDatabases } from './processes/databases.js'
import { cleanup, cleanupOnSignals, stopAfter } from './processes/lifecycle.js'
import { buildService, serviceNodeArgs, startReplicas } from './processes/service.js'
import { toMarkdown } from './report/markdown.js'
import { checkPublishable, makeResultsDir, saveResults } from './report/publish.js'
import { buildReport } from './report/report.js'
import { summarise } from './report/summary.js'
import { redisPids } from './sampling/cpu.js'
import { planRuns, timeBudgetS } from './scenarios/plan.js'
import { putFixtures, selectRoutes } from './scenarios/routes.js'
import { preload } from './scenarios/visits.js'

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const selected = selectRoutes(options.only)
  if (options.against !== undefined) {
    const deadline = stopAfter(2 * timeBudgetS(options, selected) + 300)
    makeResultsDir()
    if (!(await compare(options, selected))) {
      log('visit counts did not add up')
      process.exitCode = 1
    }
    clearTimeout(deadline)
    return
  }
  const deadline = stopAfter(timeBudgetS(options, selected))
  makeResultsDir()
  if (options.publish) checkPublishable(options.replicas)
  const startLoad = loadavg()

  const entry = buildService(options.build)
  const databases = await startDatabases()
  const ceiling = await startCeiling()
  const nodeArgs = serviceNodeArgs(options)
  const services = await startReplicas(entry, nodeArgs, databases, options.replicas)
  for (const service of services)
    log(`service up on ${service.url} (pid ${service.pid}, RSS ${service.idleRssMb.toFixed(0)} MB)`)
  log(`ceiling on ${ceiling.url}`)
  const idleRssMb = Math.max(...services.map((service) => service.idleRssMb))
  // Each route is answered once by every replica before its load (in measure), which also warms the caches.
  await putFixtures(services[0].url)

  const targets = { ceiling, services, pg: databases.pg, redisPids: redisPids(databases.redis.port) }
  const runs: Run[] = []
  for (const step of planRuns(options, selected)) {
    if (step.preload) await preload(databases.pg, options.rows)
    runs.push(await measure(step.route, step.label ?? step.route.name, targets, options))
  }

  const visitChecks = runs.flatMap((run) => (run.visits === undefined ? [] : [run.visits]))
  const report = await buildReport({
    options,
    results: summarise(runs, options.interleave),
    visitChecks,
    peakRssMb: Math.max(idleRssMb, ...runs.map((run) => run.peak ?? 0)),
    idleRssMb,
    startLoad,
    nodeArgs,
    databases
  })

  log('stopping the service, the ceiling, PostgreSQL and Redis')
  await cleanup()
  clearTimeout(deadline)

  const markdown = toMarkdown(report)
  const written = saveResults(report, markdown, options.publish)
  process.stdout.write('\n' + markdown)
  log(`written to ${written}`)
  if (options.cpuProf) log(`CPU profile of the service in ${PROF_DIR}`)
  if (visitChecks.some((c) => !c.exact)) {
    log('visit counts did not add up')
    process.exitCode = 1
  }
}

cleanupOnSignals()
try {
  await main()
} catch (err) {
  log(`failed: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
} finally {
  await cleanup()
}
