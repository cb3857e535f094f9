/**
 * `npm run bench`: the service against the framework's ceiling, in one run.
 *
 * Starts private PostgreSQL (fsync and synchronous_commit on) and Redis, the compiled service in
 * production mode, and a bare Fastify "hello world" as the ceiling; loads one route at a time with
 * autocannon (in a child process) and reports each route's throughput as a ratio to the ceiling
 * measured in the same run. Everything it starts, it stops, also on error, timeout or Ctrl-C.
 *
 *   --connections N   concurrent connections (32)
 *   --duration S      measured seconds per route (10), after --warmup S (3)
 *   --rounds N        repeat the whole sequence N times (1) and report each route's median round
 *   --rows N          after the other routes, preload N logged visits (generate_series straight
 *                     into the log and the counter) and measure the visit route again, so the
 *                     empty-log and full-log numbers come from the same run
 *   --only a,b        run only these routes (names as in the table; the ceiling always runs)
 *   --cpu-prof        write a V8 CPU profile of the service to bench-results/prof/
 *   --no-build        use the existing web/dist
 *   --node-args ".."  extra Node flags for the service process (e.g. "--max-semi-space-size=8")
 *   --no-interleave   measure the ceiling once, first (default: before every route and at the end,
 *                     each route's ratio taken against the ceiling runs on either side of it)
 *   --publish         also write the result into docs/benchmarks.md
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { PgServer, RedisServer, freePort, serviceEnv } from '../test/helpers/harness.js'
import type { LoadJob, LoadResult } from './load.js'

const WEB_DIR = fileURLToPath(new URL('..', import.meta.url))
const REPO_DIR = join(WEB_DIR, '..')
const RESULTS_DIR = join(REPO_DIR, 'bench-results')
const DOC = join(REPO_DIR, 'docs', 'benchmarks.md')

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  connections: number
  durationS: number
  warmupS: number
  rows: number
  only: string[] | undefined
  cpuProf: boolean
  build: boolean
  publish: boolean
  interleave: boolean
  nodeArgs: string[]
  rounds: number
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    connections: 32,
    durationS: 10,
    warmupS: 3,
    rows: 0,
    only: undefined,
    cpuProf: false,
    build: true,
    publish: false,
    interleave: true,
    nodeArgs: [],
    rounds: 1
  }
  const int = (flag: string, value: string | undefined, min: number, max: number): number => {
    const n = Number(value)
    if (value === undefined || !Number.isInteger(n) || n < min || n > max)
      throw new Error(`${flag} needs an integer between ${min} and ${max}`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    switch (arg) {
      case '--connections':
        options.connections = int(arg, argv[++i], 1, 1000)
        break
      case '--duration':
        options.durationS = int(arg, argv[++i], 1, 300)
        break
      case '--warmup':
        options.warmupS = int(arg, argv[++i], 0, 60)
        break
      case '--rows':
        options.rows = int(arg, argv[++i], 0, 50_000_000)
        break
      case '--rounds':
        options.rounds = int(arg, argv[++i], 1, 9)
        break
      case '--only':
        options.only = (argv[++i] ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
        break
      case '--cpu-prof':
        options.cpuProf = true
        break
      case '--no-build':
        options.build = false
        break
      case '--publish':
        options.publish = true
        break
      case '--no-interleave':
        options.interleave = false
        break
      case '--node-args':
        options.nodeArgs = (argv[++i] ?? '').split(' ').filter(Boolean)
        break
      case '--help':
        process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0] + '*/\n')
        process.exit(0)
        break
      default:
        throw new Error(`unknown option ${arg} (see --help)`)
    }
  }
  return options
}

// ---------------------------------------------------------------------------------------------
// Routes

type Kind = 'ceiling' | 'cached-read' | 'read' | 'visit' | 'write'

interface Route {
  name: string
  target: 'ceiling' | 'service'
  method: 'GET' | 'POST'
  path: string
  body?: string
  headers?: Record<string, string>
  kind: Kind
  /** Ratio to the ceiling the issue asks for. */
  goal?: number
}

const BENCH_KEY = 'bench-key'
const ROUTES: Route[] = [
  { name: 'hello world (ceiling)', target: 'ceiling', method: 'GET', path: '/', kind: 'ceiling' },
  {
    name: 'GET /cache/:key',
    target: 'service',
    method: 'GET',
    path: `/cache/${BENCH_KEY}`,
    kind: 'cached-read',
    goal: 0.6
  },
  { name: 'GET /users', target: 'service', method: 'GET', path: '/users', kind: 'cached-read', goal: 0.5 },
  { name: 'GET /users/:id', target: 'service', method: 'GET', path: '/users/1', kind: 'cached-read', goal: 0.5 },
  { name: 'GET /visits', target: 'service', method: 'GET', path: '/visits', kind: 'cached-read', goal: 0.5 },
  {
    name: 'GET / (durable visit)',
    target: 'service',
    method: 'GET',
    path: '/',
    kind: 'visit',
    goal: 0.25,
    headers: { accept: 'application/json' }
  },
  {
    name: 'POST /cache',
    target: 'service',
    method: 'POST',
    path: '/cache',
    kind: 'write',
    body: JSON.stringify({ key: 'bench-post', value: { n: 1, tags: ['a', 'b'] }, ttl: 600 }),
    headers: { 'content-type': 'application/json' }
  },
  { name: 'GET /health', target: 'service', method: 'GET', path: '/health', kind: 'read', goal: 0.4 }
]

const P99_LIMIT_MS = 10
const RSS_LIMIT_MB = 150

// ---------------------------------------------------------------------------------------------
// Processes: everything started here is tracked and stopped in cleanup()

const children = new Set<ChildProcess>()
let pgServer: PgServer | undefined
let redisServer: RedisServer | undefined
let cleaningUp: Promise<void> | undefined

function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  if (!(await exited(child, graceMs))) {
    child.kill('SIGKILL')
    await exited(child, 2000)
  }
}

function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    await Promise.all([...children].map((child) => stopChild(child)))
    await Promise.all([pgServer?.destroy().catch(() => undefined), redisServer?.destroy().catch(() => undefined)])
  })()
  return cleaningUp
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping everything the benchmark started...\n`)
    void cleanup().finally(() => process.exit(130))
  })
}

// ---------------------------------------------------------------------------------------------
// Helpers

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`)
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with code ${child.exitCode}:\n${output()}`)
    try {
      const response = await fetch(url)
      await response.arrayBuffer()
      if (response.ok) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer in ${timeoutMs} ms:\n${output()}`)
    await sleep(100)
  }
}

function capture(child: ChildProcess): () => string {
  let text = ''
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-8000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return () => text
}

function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match?.[1] === undefined ? undefined : Number(match[1]) / 1024
  } catch {
    return undefined
  }
}

const TICKS_PER_S = 100 // USER_HZ on Linux

/** CPU time (user + system) of each of these processes so far, in seconds; gone ones are left out. */
function cpuByPid(pids: number[]): Map<number, number> {
  const times = new Map<number, number>()
  for (const pid of new Set(pids)) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      times.set(pid, (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S)
    } catch {
      // the process has gone
    }
  }
  return times
}

/**
 * CPU seconds used between two snapshots: processes alive at both count their difference, those
 * started in between count whole; those that ended in between are lost (an underestimate).
 */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0
  for (const [pid, now] of after) seconds += Math.max(0, now - (before.get(pid) ?? 0))
  return seconds
}

/** Processes whose parent is `ppid` (PostgreSQL's backends), or whose command line contains `needle`. */
function findPids(match: { ppid?: number; needle?: string }): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (match.ppid !== undefined) {
        const status = readFileSync(`/proc/${entry}/status`, 'utf8')
        if (new RegExp(`^PPid:\\s+${match.ppid}$`, 'm').test(status)) pids.push(Number(entry))
      } else if (match.needle !== undefined) {
        if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(match.needle))
          pids.push(Number(entry))
      }
    } catch {
      // gone
    }
  }
  return pids
}

/** Samples a process's resident memory every 100 ms until stopped; returns the peak. */
function sampleRss(pid: number): () => number {
  let peak = rssMb(pid) ?? 0
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid) ?? 0)
  }, 100)
  return () => {
    clearInterval(timer)
    return Math.max(peak, rssMb(pid) ?? 0)
  }
}

function runLoad(job: LoadJob): Promise<LoadResult> {
  const child = track(
    fork(join(WEB_DIR, 'bench', 'load.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
  )
  return new Promise((resolve, reject) => {
    const limit = setTimeout(
      () => {
        child.kill('SIGKILL')
        reject(new Error(`load generator did not finish within ${job.warmupS + job.durationS + 60} s`))
      },
      (job.warmupS + job.durationS + 60) * 1000
    )
    child.once('message', (message: { result?: LoadResult; error?: string }) => {
      clearTimeout(limit)
      if (message.result) resolve(message.result)
      else reject(new Error(`load generator failed: ${message.error}`))
    })
    child.once('exit', (code) => {
      clearTimeout(limit)
      reject(new Error(`load generator exited with code ${code}`))
    })
    child.send(job)
  })
}

async function visitState(pg: PgServer): Promise<{ counter: number; logged: number }> {
  const [row] = await pg.query<{ counter: string; logged: string }>(
    "SELECT (SELECT total FROM visit_counter WHERE label = 'homepage') AS counter, (SELECT count(*) FROM visits WHERE label = 'homepage') AS logged"
  )
  return { counter: Number(row?.counter ?? 0), logged: Number(row?.logged ?? 0) }
}

// ---------------------------------------------------------------------------------------------
// The run

interface Measured {
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

interface CpuUse {
  server: number
  redis: number
  postgres: number
  load: number
}

interface VisitCheck {
  phase: string
  acknowledged: number
  committed: number
  logged: number
  exact: boolean
}

interface Report {
  date: string
  options: {
    connections: number
    durationS: number
    warmupS: number
    rows: number
    interleave: boolean
    rounds: number
  }
  machine: Record<string, string>
  results: Measured[]
  visitChecks: VisitCheck[]
  peakRssMb: number
  idleRssMb: number
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const selected = ROUTES.filter(
    (r) =>
      r.kind === 'ceiling' ||
      options.only === undefined ||
      options.only.includes(r.name) ||
      options.only.includes(r.path)
  )
  const perRoute = options.warmupS + options.durationS + 5
  const budgetS =
    180 +
    2 * options.rounds * (selected.length + (options.rows > 0 ? 1 : 0)) * perRoute +
    Math.ceil(options.rows / 50_000)
  const deadline = setTimeout(() => {
    log(`time budget of ${budgetS} s exceeded; stopping`)
    void cleanup().finally(() => process.exit(1))
  }, budgetS * 1000)
  deadline.unref()

  mkdirSync(RESULTS_DIR, { recursive: true })
  const startLoad = loadavg()

  if (options.build) {
    log('building the service (npm run build)')
    const build = spawnSync('npm', ['run', 'build'], { cwd: WEB_DIR, stdio: ['ignore', 'ignore', 'inherit'] })
    if (build.status !== 0) throw new Error('npm run build failed')
  }
  const entry = join(WEB_DIR, 'dist', 'src', 'server.js')
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run without --no-build`)

  log('starting PostgreSQL (durable: fsync on, synchronous_commit on) and Redis')
  ;[pgServer, redisServer] = await Promise.all([PgServer.start({ durable: true }), RedisServer.start()])
  const pg = pgServer
  const [settings] = await pg.query<{ fsync: string; sc: string; version: string }>(
    "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc, current_setting('server_version') AS version"
  )
  if (settings?.fsync !== 'on' || settings.sc !== 'on')
    throw new Error('PostgreSQL is not durable (fsync/synchronous_commit off)')
  const redisVersion = await redisServer.command(
    async (r) => /redis_version:([^\r\n]+)/.exec(await r.info('server'))?.[1] ?? '?'
  )

  // The ceiling: started before the service, stopped with everything else.
  const ceilingPort = await freePort()
  const ceiling = track(
    spawn(process.execPath, [join(WEB_DIR, 'bench', 'hello.mjs')], {
      cwd: WEB_DIR,
      env: { ...process.env, NODE_ENV: 'production', PORT: String(ceilingPort) },
      stdio: ['ignore', 'pipe', 'pipe']
    })
  )
  const ceilingUrl = `http://127.0.0.1:${ceilingPort}`
  const ceilingPid = ceiling.pid ?? 0
  // Redis rewrites its process title to `redis-server <address>:<port>`.
  const redisPids = findPids({ needle: `redis-server 127.0.0.1:${redisServer.port}` })
  await waitForHttp(`${ceilingUrl}/`, ceiling, capture(ceiling), 15_000)

  // The service: compiled, production, logs at warn. It migrates at start.
  const servicePort = await freePort()
  const profDir = join(RESULTS_DIR, 'prof')
  const nodeArgs = [...options.nodeArgs, ...(options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [])]
  const service = track(
    spawn(process.execPath, [...nodeArgs, entry], {
      cwd: WEB_DIR,
      env: {
        PATH: process.env.PATH ?? '',
        ...serviceEnv(pg, redisServer, { NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(servicePort) })
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
  )
  const serviceOutput = capture(service)
  service.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[service] ${chunk.toString()}`))
  const serviceUrl = `http://127.0.0.1:${servicePort}`
  await waitForHttp(`${serviceUrl}/livez`, service, serviceOutput, 60_000)
  const servicePid = service.pid
  if (servicePid === undefined) throw new Error('service has no pid')
  const idleRssMb = rssMb(servicePid) ?? 0
  log(`service up on ${serviceUrl} (pid ${servicePid}, RSS ${idleRssMb.toFixed(0)} MB); ceiling on ${ceilingUrl}`)

  // Fixtures: the key read by GET /cache/:key; each route answered once (this also warms caches).
  const put = await fetch(`${serviceUrl}/cache`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: BENCH_KEY, value: { hello: 'world', n: 42 }, ttl: 3600 })
  })
  if (put.status !== 201) throw new Error(`POST /cache answered ${put.status}: ${await put.text()}`)

  interface Run {
    cpu: CpuUse
    route: Route
    label: string
    load: LoadResult
    peak: number | null
  }
  const runs: Run[] = []
  const visitChecks: VisitCheck[] = []
  let overallPeak = idleRssMb

  const measure = async (route: Route, label = route.name): Promise<void> => {
    const base = route.target === 'ceiling' ? ceilingUrl : serviceUrl
    const probe = await fetch(base + route.path, { method: route.method, headers: route.headers, body: route.body })
    await probe.arrayBuffer()
    if (probe.status >= 300)
      throw new Error(`${label}: ${route.method} ${route.path} answered ${probe.status} before the load`)
    const before = route.kind === 'visit' ? await visitState(pg) : undefined
    log(`${label}: ${options.warmupS} s warm-up + ${options.durationS} s at ${options.connections} connections`)
    const stopSampling = route.target === 'service' ? sampleRss(servicePid) : undefined
    // Where the machine's two cores go: the server under test, Redis, PostgreSQL and the load generator.
    const serverPid = route.target === 'service' ? servicePid : ceilingPid
    const pgPids = (): number[] => (pg.pid === undefined ? [] : [pg.pid, ...findPids({ ppid: pg.pid })])
    const cpuBefore = { server: cpuByPid([serverPid]), redis: cpuByPid(redisPids), postgres: cpuByPid(pgPids()) }
    const cpuStarted = performance.now()
    const load = await runLoad({
      url: base + route.path,
      method: route.method,
      body: route.body,
      headers: route.headers,
      connections: options.connections,
      durationS: options.durationS,
      warmupS: options.warmupS
    })
    const peak = stopSampling?.() ?? null
    const wallS = (performance.now() - cpuStarted) / 1000
    const cores = (before: Map<number, number>, after: Map<number, number>): number =>
      Math.round((cpuBetween(before, after) / wallS) * 100) / 100
    const cpu: CpuUse = {
      server: cores(cpuBefore.server, cpuByPid([serverPid])),
      redis: cores(cpuBefore.redis, cpuByPid(redisPids)),
      postgres: cores(cpuBefore.postgres, cpuByPid(pgPids())),
      load: Math.round((load.cpuS / load.durationS) * 100) / 100
    }
    if (peak !== null) overallPeak = Math.max(overallPeak, peak)
    if (before !== undefined) {
      await sleep(1000) // let requests cut off at the end of the run finish
      const after = await visitState(pg)
      const acknowledged = load.warmup2xx + load.ok2xx
      const committed = after.counter - before.counter
      const logged = after.logged - before.logged
      // Requests in flight when autocannon stops are committed but never read: at most one per connection per run.
      const exact =
        committed === logged &&
        committed >= acknowledged &&
        committed <= acknowledged + 2 * options.connections + load.errors
      visitChecks.push({ phase: label, acknowledged, committed, logged, exact })
      log(
        `${label}: ${acknowledged} acknowledged, ${committed} committed to the counter, ${logged} log rows: ${exact ? 'exact' : 'MISMATCH'}`
      )
    }
    log(`${label}: ${Math.round(load.requestsPerS)} req/s, p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms`)
    runs.push({ route, label, load, peak, cpu })
  }

  // The machine is shared: with --interleave (the default) the ceiling is measured again before
  // every route and at the end, and each route is compared with the ceiling runs on either side.
  const ceilingRoute = selected.find((r) => r.kind === 'ceiling') ?? (ROUTES[0] as Route)
  const serviceRoutes = selected.filter((r) => r.kind !== 'ceiling')
  const plan: Array<{ route: Route; label?: string; preload?: boolean }> = []
  const loggedLabel = (route: Route): string => `${route.name}, ${options.rows.toLocaleString('en-US')} logged`
  for (let round = 0; round < options.rounds; round++) {
    if (!options.interleave && round === 0) plan.push({ route: ceilingRoute })
    for (const route of serviceRoutes) {
      if (options.interleave) plan.push({ route: ceilingRoute })
      plan.push({ route, label: route.kind === 'visit' && options.rows > 0 ? `${route.name}, empty log` : route.name })
    }
  }
  // With --rows: the preload, then the visit route again, as many rounds, against the same ceiling.
  const visitRoute = serviceRoutes.find((r) => r.kind === 'visit')
  if (options.rows > 0 && visitRoute !== undefined) {
    for (let round = 0; round < options.rounds; round++) {
      if (options.interleave) plan.push({ route: ceilingRoute })
      plan.push({ route: visitRoute, label: loggedLabel(visitRoute), preload: round === 0 })
    }
  }
  if (options.interleave) plan.push({ route: ceilingRoute })
  for (const step of plan) {
    if (step.preload) await preload(pg, options.rows)
    await measure(step.route, step.label)
  }

  const ceilings = runs.filter((r) => r.route.kind === 'ceiling').map((r) => r.load.requestsPerS)
  // The lower middle with an even count: never flatter a route.
  const median = <T>(items: T[], key: (item: T) => number): T | undefined =>
    [...items].sort((a, b) => key(a) - key(b))[Math.floor((items.length - 1) / 2)]
  const sorted = [...ceilings].sort((a, b) => a - b)
  const medianCeiling = median(ceilings, (n) => n) ?? 0
  const results: Measured[] = []
  const ceilingLoad = runs.find((r) => r.route.kind === 'ceiling')?.load
  if (ceilingLoad !== undefined) {
    results.push({
      route: ceilings.length > 1 ? `${ceilingRoute.name}, median of ${ceilings.length}` : ceilingRoute.name,
      path: ceilingRoute.path,
      method: ceilingRoute.method,
      kind: 'ceiling',
      requestsPerS: Math.round(medianCeiling),
      ratio: null,
      goal: null,
      p50Ms: ceilingLoad.latencyMs.p50,
      p99Ms: ceilingLoad.latencyMs.p99,
      non2xx: runs.filter((r) => r.route.kind === 'ceiling').reduce((n, r) => n + r.load.non2xx, 0),
      errors: runs.filter((r) => r.route.kind === 'ceiling').reduce((n, r) => n + r.load.errors + r.load.timeouts, 0),
      peakRssMb: null,
      cpu:
        median(
          runs.filter((r) => r.route.kind === 'ceiling'),
          (r) => r.load.requestsPerS
        )?.cpu ?? null,
      verdict:
        ceilings.length > 1 ? `range ${Math.round(sorted[0] ?? 0)}–${Math.round(sorted[sorted.length - 1] ?? 0)}` : ''
    })
  }
  // Each service run against the ceiling runs on either side of it; with several rounds, the
  // route is reported by its median round.
  const rated = runs.flatMap((run, i) => {
    if (run.route.kind === 'ceiling') return []
    const near = [runs[i - 1], runs[i + 1]]
      .filter((r) => r?.route.kind === 'ceiling')
      .map((r) => r?.load.requestsPerS ?? 0)
    const reference =
      options.interleave && near.length > 0 ? near.reduce((a, b) => a + b, 0) / near.length : medianCeiling
    return [{ ...run, ratio: reference === 0 ? 0 : run.load.requestsPerS / reference }]
  })
  const labels = [...new Set(rated.map((r) => r.label))]
  for (const label of labels) {
    const all = rated.filter((r) => r.label === label)
    const run = median(all, (r) => r.ratio)
    if (run === undefined) continue
    const { load, ratio } = run
    const verdicts: string[] = []
    if (run.route.goal !== undefined) verdicts.push(ratio >= run.route.goal ? 'ratio met' : 'ratio MISSED')
    if (run.route.kind === 'cached-read') verdicts.push(load.latencyMs.p99 < P99_LIMIT_MS ? 'p99 met' : 'p99 MISSED')
    const failures = all.reduce((n, r) => n + r.load.non2xx + r.load.errors + r.load.timeouts, 0)
    if (failures > 0) verdicts.push('FAILURES')
    if (all.length > 1) {
      const ratios = all.map((r) => r.ratio).sort((a, b) => a - b)
      verdicts.push(`median of ${all.length}, ratios ${ratios.map((r) => r.toFixed(2)).join('/')}`)
    }
    const peaks = all.map((r) => r.peak ?? 0)
    results.push({
      route: label,
      path: run.route.path,
      method: run.route.method,
      kind: run.route.kind,
      requestsPerS: Math.round(load.requestsPerS),
      ratio: Math.round(ratio * 1000) / 1000,
      goal: run.route.goal ?? null,
      p50Ms: load.latencyMs.p50,
      p99Ms: load.latencyMs.p99,
      non2xx: all.reduce((n, r) => n + r.load.non2xx, 0),
      errors: all.reduce((n, r) => n + r.load.errors + r.load.timeouts, 0),
      peakRssMb: Math.round(Math.max(...peaks)),
      cpu: run.cpu,
      verdict: verdicts.join(', ')
    })
  }

  const [dbSize] = await pg.query<{ size: string }>("SELECT pg_size_pretty(pg_total_relation_size('visits')) AS size")
  const report: Report = {
    date: new Date().toISOString(),
    options: {
      connections: options.connections,
      durationS: options.durationS,
      warmupS: options.warmupS,
      rows: options.rows,
      interleave: options.interleave,
      rounds: options.rounds
    },
    machine: {
      cpu: `${cpus()[0]?.model ?? '?'} x ${cpus().length}`,
      memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
      kernel: release(),
      node: process.version,
      postgresql: `${settings.version} (fsync on, synchronous_commit on)`,
      redis: redisVersion,
      'load average at start': startLoad.map((n) => n.toFixed(2)).join(' '),
      'visits table at end': dbSize?.size ?? '?',
      'service node flags': nodeArgs.join(' ') || '(none)',
      'load generator': `autocannon ${autocannonVersion()} in a separate Node process on the same machine`
    },
    results,
    visitChecks,
    peakRssMb: Math.round(overallPeak),
    idleRssMb: Math.round(idleRssMb)
  }

  log('stopping the service, the ceiling, PostgreSQL and Redis')
  await cleanup()
  clearTimeout(deadline)

  const markdown = toMarkdown(report)
  const stamp = report.date.replace(/[:.]/g, '-')
  writeFileSync(join(RESULTS_DIR, `bench-${stamp}.json`), JSON.stringify(report, null, 2) + '\n')
  writeFileSync(join(RESULTS_DIR, `bench-${stamp}.md`), markdown)
  writeFileSync(join(RESULTS_DIR, 'latest.json'), JSON.stringify(report, null, 2) + '\n')
  writeFileSync(join(RESULTS_DIR, 'latest.md'), markdown)
  if (options.publish) publish(markdown)
  process.stdout.write('\n' + markdown)
  log(`written to ${join(RESULTS_DIR, `bench-${stamp}.{json,md}`)}${options.publish ? ` and ${DOC}` : ''}`)
  if (options.cpuProf) log(`CPU profile of the service in ${profDir}`)
  if (visitChecks.some((c) => !c.exact)) {
    log('visit counts did not add up')
    process.exitCode = 1
  }
}

/** N logged visits straight into the log, and the counter raised by N, in one transaction. */
async function preload(pg: PgServer, rows: number): Promise<void> {
  log(`preloading ${rows.toLocaleString('en-US')} logged visits`)
  const started = performance.now()
  await pg.query(`
    WITH log AS (
      INSERT INTO visits (label, visited_at)
      SELECT 'homepage', now() - make_interval(secs => g) FROM generate_series(${rows}, 1, -1) AS g
    )
    UPDATE visit_counter SET total = total + ${rows}, updated_at = now() WHERE label = 'homepage'`)
  // A bulk load leaves work for autovacuum and the checkpointer; do it now, not during the measurement.
  await pg.query('VACUUM (ANALYZE) visits')
  await pg.query('CHECKPOINT')
  log(`preloaded in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}

function autocannonVersion(): string {
  try {
    const file = fileURLToPath(import.meta.resolve('autocannon/package.json'))
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
  } catch {
    return '?'
  }
}

function toMarkdown(report: Report): string {
  const { options: o } = report
  const lines = [
    `Run of ${report.date}: ${o.connections} connections, ${o.durationS} s per route after a ${o.warmupS} s warm-up` +
      (o.rounds > 1 ? `, ${o.rounds} rounds (each route reported by its median round)` : '') +
      (o.rows > 0
        ? `, ${o.rows.toLocaleString('en-US')} logged visits preloaded before the visit route was measured again`
        : '') +
      (o.interleave
        ? '. The ceiling was measured before every route and at the end; each ratio is against the ceiling runs on either side of the route.'
        : '. The ceiling was measured once, first.'),
    '',
    '| route | req/s | ratio to ceiling | target | p50 ms | p99 ms | non-2xx | errors | peak RSS MB | CPU cores: server / Redis / PostgreSQL / load generator | server CPU µs per request | verdict |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|'
  ]
  for (const r of report.results) {
    lines.push(
      `| ${r.route} | ${r.requestsPerS} | ${r.ratio === null ? '1' : r.ratio.toFixed(2)} | ${r.goal === null ? '' : `≥ ${r.goal.toFixed(2)}`} | ${r.p50Ms} | ${r.p99Ms} | ${r.non2xx} | ${r.errors} | ${r.peakRssMb ?? ''} | ${r.cpu === null ? '' : [r.cpu.server, r.cpu.redis, r.cpu.postgres, r.cpu.load].map((c) => c.toFixed(2)).join(' / ')} | ${r.cpu === null || r.requestsPerS === 0 ? '' : Math.round((r.cpu.server / r.requestsPerS) * 1e6)} | ${r.verdict} |`
    )
  }
  lines.push('')
  lines.push(
    `Service RSS: ${report.idleRssMb} MB idle, ${report.peakRssMb} MB peak under load (target < ${RSS_LIMIT_MB} MB: ${report.peakRssMb < RSS_LIMIT_MB ? 'met' : 'MISSED'}).`
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

function publish(markdown: string): void {
  const start = '<!-- bench:start -->'
  const end = '<!-- bench:end -->'
  const current = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Benchmarks\n\n${start}\n${end}\n`
  const from = current.indexOf(start)
  const to = current.indexOf(end)
  if (from < 0 || to < from) throw new Error(`${DOC} lacks the ${start} ... ${end} markers`)
  writeFileSync(DOC, current.slice(0, from + start.length) + '\n' + markdown + current.slice(to))
}

try {
  await main()
} catch (err) {
  log(`failed: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
} finally {
  await cleanup()
}
