// End-to-end test of the compose stack in a real Docker engine.
//
//   npm run test:stack        (from web/ or the repository root; needs root, or docker access)
//
// What it does, in order:
//   1. installs docker.io, docker-compose and debootstrap when missing (apt, root only);
//   2. starts dockerd when none answers (and stops it at the end);
//   3. builds a local Debian base image with debootstrap + docker import (kept between runs);
//   4. builds stand-ins for the official postgres, redis and node images from that base and tags
//      them with the exact names compose.yaml and web/Dockerfile use, unless a real image of that
//      name is present (see test/stack/fixtures/README.md);
//   5. copies the repository's files to a temporary folder and runs ./run.sh there, unmodified,
//      under its own compose project name and a free host port;
//   6. checks the stack over the published port and with `compose exec`;
//   7. removes every container, network and volume of its project, the temporary folder and the
//      tags it put on official names, and stops the daemon it started. Base and stand-in images
//      and the web image stay, as build cache for the next run.
// It prints timings and ends with "N passed, M failed"; the exit code is non-zero on any failure.
//
// Environment: STACK_TEST_TIMEOUT_S (default 540) bounds the whole run;
// STACK_TEST_KEEP=1 leaves the stack running for inspection (and skips the clean-up checks).
import {
  existsSync,
  mkdtempSync,
  mkdirSync,
  copyFileSync,
  cpSync,
  readFileSync,
  rmSync,
  statSync,
  openSync,
  closeSync,
  writeFileSync
} from 'node:fs'
import { spawn, type ChildProcess } from 'node:child_process'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import {
  Report,
  PhaseError,
  run,
  describeFailure,
  freePort,
  http,
  waitUntil,
  sleep,
  get,
  isRecord,
  killAll,
  type RunResult
} from './lib.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))
const PROJECT = 'wdcstacktest'
const BASE_IMAGE = 'wdc-test/debian-base:bookworm'
const FIXTURE_LABEL = 'org.web-db-cache.test-fixture'
const TOTAL_TIMEOUT_MS = Number(process.env.STACK_TEST_TIMEOUT_S ?? 540) * 1000
const KEEP = process.env.STACK_TEST_KEEP === '1'
const APT_SOURCES = '/etc/apt/sources.list.d/debian.sources'

const report = new Report()
const state: {
  docker: string
  compose: string[]
  workdir?: string
  env: NodeJS.ProcessEnv
  port: number
  startedDaemon?: ChildProcess
  daemonLog?: string
  taggedOfficial: string[]
  events?: ChildProcess
  eventLines: string[]
  cleaning: boolean
} = { docker: 'docker', compose: [], env: {}, port: 0, taggedOfficial: [], eventLines: [], cleaning: false }

// ---------------------------------------------------------------------------
// docker and compose commands

function docker(args: string[], timeoutMs = 60_000, input?: string): Promise<RunResult> {
  return run(state.docker, args, { timeoutMs, input })
}

function compose(args: string[], timeoutMs = 120_000, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const [cmd, ...pre] = state.compose
  return run(cmd ?? 'docker-compose', [...pre, ...args], {
    cwd: state.workdir,
    env: { ...state.env, ...extraEnv },
    timeoutMs
  })
}

async function must(what: string, p: Promise<RunResult>): Promise<RunResult> {
  const r = await p
  if (r.code !== 0) throw new Error(describeFailure(what, r))
  return r
}

async function containerId(service: string): Promise<string> {
  const r = await must(`compose ps -q ${service}`, compose(['ps', '-q', service], 30_000))
  const id = r.stdout.trim().split('\n')[0] ?? ''
  if (id === '') throw new Error(`no container for ${service}`)
  return id
}

async function inspect(id: string): Promise<Record<string, unknown>> {
  const r = await must(`docker inspect ${id}`, docker(['inspect', id]))
  const arr = JSON.parse(r.stdout) as unknown
  if (!Array.isArray(arr) || !isRecord(arr[0])) throw new Error(`unexpected docker inspect output for ${id}`)
  return arr[0]
}

async function commandExists(cmd: string): Promise<boolean> {
  const r = await run('bash', ['-c', `command -v ${cmd}`], { timeoutMs: 5000 })
  return r.code === 0
}

// ---------------------------------------------------------------------------
// setup

async function ensureTools(): Promise<string> {
  const missing: string[] = []
  if (!existsSync('/usr/bin/docker') && !(await commandExists('docker'))) missing.push('docker.io')
  const hasComposeV1 = await commandExists('docker-compose')
  if (!hasComposeV1) missing.push('docker-compose')
  if (!(await commandExists('debootstrap')) && !existsSync('/usr/sbin/debootstrap')) missing.push('debootstrap')
  if (missing.length > 0) {
    if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(', ')}; install them or run as root`)
    report.log(`installing ${missing.join(' ')} with apt`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    await must('apt-get update', run('apt-get', ['update', '-qq'], { env, timeoutMs: 180_000 }))
    await must('apt-get install', run('apt-get', ['install', '-y', '-qq', ...missing], { env, timeoutMs: 300_000 }))
  }
  // The Debian client talks to the Debian daemon; a newer `docker` earlier on PATH may lack compose.
  state.docker = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker'
  state.compose = (await commandExists('docker-compose')) ? ['docker-compose'] : [state.docker, 'compose']
  const v = await run(state.compose[0] ?? 'docker-compose', [...state.compose.slice(1), 'version'], {
    timeoutMs: 20_000
  })
  return `${missing.length > 0 ? `installed ${missing.join(', ')}; ` : ''}compose: ${state.compose.join(' ')} (${v.stdout.split('\n')[0]?.trim() ?? '?'})`
}

async function ensureDaemon(): Promise<string> {
  const info = await docker(['info', '--format', '{{.ServerVersion}}'], 20_000)
  if (info.code === 0) return `using the running daemon ${info.stdout.trim()}`
  const dockerd = existsSync('/usr/sbin/dockerd') ? '/usr/sbin/dockerd' : 'dockerd'
  const logDir = mkdtempSync(join(tmpdir(), 'wdc-dockerd-'))
  state.daemonLog = join(logDir, 'dockerd.log')
  const fd = openSync(state.daemonLog, 'a')
  const child = spawn(dockerd, [], { detached: true, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  state.startedDaemon = child
  child.unref()
  await waitUntil('dockerd answering', 60_000, async () => {
    if (child.exitCode !== null)
      throw new Error(
        `dockerd exited with ${child.exitCode}: ${readFileSync(state.daemonLog ?? '', 'utf8').slice(-800)}`
      )
    const r = await docker(['info', '--format', '{{.ServerVersion}}'], 5000)
    return r.code === 0 ? r.stdout.trim() : undefined
  })
  return `started dockerd (pid ${child.pid})`
}

async function imageLabel(name: string): Promise<string | undefined> {
  const r = await docker(['image', 'inspect', '--format', `{{index .Config.Labels "${FIXTURE_LABEL}"}}`, name], 20_000)
  if (r.code !== 0) return undefined // no such image
  return r.stdout.trim()
}

async function ensureBaseImage(): Promise<string> {
  if ((await docker(['image', 'inspect', BASE_IMAGE], 20_000)).code === 0) return 'cached'
  const dir = mkdtempSync(join('/var/tmp', 'wdc-debootstrap-'))
  try {
    await must('debootstrap', run('debootstrap', ['--variant=minbase', 'bookworm', dir], { timeoutMs: 300_000 }))
    // Smaller image; package lists are fetched again by whoever installs.
    rmSync(join(dir, 'var/lib/apt/lists'), { recursive: true, force: true })
    mkdirSync(join(dir, 'var/lib/apt/lists/partial'), { recursive: true })
    if (existsSync(APT_SOURCES)) {
      // Use this machine's package sources, the ones known to be reachable from here.
      rmSync(join(dir, 'etc/apt/sources.list'), { force: true })
      copyFileSync(APT_SOURCES, join(dir, 'etc/apt/sources.list.d/debian.sources'))
    }
    const r = await run(
      'bash',
      [
        '-c',
        'set -o pipefail; tar -C "$1" -c . | "$2" import --change "LABEL org.web-db-cache.test-fixture=true" - "$3"',
        '_',
        dir,
        state.docker,
        BASE_IMAGE
      ],
      {
        timeoutMs: 180_000
      }
    )
    if (r.code !== 0) throw new Error(describeFailure('docker import', r))
    return 'built with debootstrap'
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

interface StandIn {
  fixture: 'postgres' | 'redis' | 'node'
  official: string
}

function officialNames(): StandIn[] {
  const doc = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as unknown
  const dbImage = get(doc, 'services', 'db', 'image')
  const cacheImage = get(doc, 'services', 'cache', 'image')
  const nodeArg = /^ARG NODE_IMAGE=(\S+)/m.exec(readFileSync(join(ROOT, 'web/Dockerfile'), 'utf8'))?.[1]
  if (typeof dbImage !== 'string' || typeof cacheImage !== 'string' || nodeArg === undefined) {
    throw new Error('cannot read the image names from compose.yaml and web/Dockerfile')
  }
  return [
    { fixture: 'postgres', official: dbImage },
    { fixture: 'redis', official: cacheImage },
    { fixture: 'node', official: nodeArg }
  ]
}

/** The node stand-in's build context: the Dockerfile, this node binary, its npm, the CA bundle. */
function nodeContext(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wdc-node-standin-'))
  copyFileSync(join(FIXTURES, 'node/Dockerfile'), join(dir, 'Dockerfile'))
  copyFileSync(process.execPath, join(dir, 'node'))
  const npmDir = [
    resolve(dirname(process.execPath), '../lib/node_modules/npm'),
    '/usr/lib/node_modules/npm',
    '/usr/local/lib/node_modules/npm'
  ].find((d) => existsSync(join(d, 'bin/npm-cli.js')))
  if (npmDir === undefined) throw new Error(`cannot find npm next to ${process.execPath}`)
  cpSync(npmDir, join(dir, 'npm'), { recursive: true })
  const ca = '/etc/ssl/certs/ca-certificates.crt'
  if (existsSync(ca)) copyFileSync(ca, join(dir, 'ca-certificates.crt'))
  else writeFileSync(join(dir, 'ca-certificates.crt'), '')
  return dir
}

async function buildStandIns(): Promise<string> {
  const notes: string[] = []
  for (const s of officialNames()) {
    const label = await imageLabel(s.official)
    if (label !== undefined && label !== 'true') {
      notes.push(`${s.official}: real image present, used as is`)
      continue
    }
    const context = s.fixture === 'node' ? nodeContext() : join(FIXTURES, s.fixture)
    try {
      const t = Date.now()
      const tag = `wdc-test/${s.fixture}-standin:latest`
      await must(
        `docker build ${s.fixture} stand-in`,
        docker(
          ['build', '-q', '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`, '-t', tag, '-t', s.official, context],
          300_000
        )
      )
      state.taggedOfficial.push(s.official)
      notes.push(`${s.official} <- ${s.fixture} stand-in (${((Date.now() - t) / 1000).toFixed(1)}s)`)
    } finally {
      if (s.fixture === 'node') rmSync(context, { recursive: true, force: true })
    }
  }
  return notes.join('; ')
}

/** A copy of the repository's files (tracked and untracked, not ignored) without any .env. */
async function copyRepository(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'wdc-stack-'))
  const r = await run('git', ['-C', ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    timeoutMs: 30_000
  })
  if (r.code !== 0) throw new Error(describeFailure('git ls-files', r))
  let n = 0
  for (const rel of r.stdout.split('\0')) {
    if (rel === '' || rel === '.env' || rel.endsWith('/.env')) continue
    const src = join(ROOT, rel)
    if (!existsSync(src) || !statSync(src).isFile()) continue
    mkdirSync(dirname(join(dir, rel)), { recursive: true })
    copyFileSync(src, join(dir, rel)) // keeps the mode bits (run.sh stays executable)
    n++
  }
  state.workdir = dir
  return `${n} files in ${dir}`
}

function startEventRecorder(): void {
  const child = spawn(
    state.docker,
    [
      'events',
      '--format',
      '{{json .}}',
      '--filter',
      'type=container',
      '--filter',
      `label=com.docker.compose.project=${PROJECT}`
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] }
  )
  let pending = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    pending += d
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    state.eventLines.push(...lines.filter((l) => l.trim() !== ''))
  })
  state.events = child
}

interface DockerEvent {
  action: string
  service: string
  timeNano: bigint
}

function events(): DockerEvent[] {
  const out: DockerEvent[] = []
  for (const line of state.eventLines) {
    try {
      const e = JSON.parse(line) as unknown
      const action = get(e, 'Action') ?? get(e, 'status')
      const service = get(e, 'Actor', 'Attributes', 'com.docker.compose.service')
      const timeNano = get(e, 'timeNano')
      if (typeof action === 'string' && typeof service === 'string' && typeof timeNano === 'number') {
        out.push({ action, service, timeNano: BigInt(Math.round(timeNano)) })
      }
    } catch {
      // not an event line
    }
  }
  return out
}

async function runScript(args: string[], timeoutMs: number): Promise<RunResult> {
  const r = await run('./run.sh', args, {
    cwd: state.workdir,
    env: state.env,
    timeoutMs,
    onLine: (line) => {
      // run.sh's own lines; the image build output stays in the captured text.
      if (/^(==>|\s+\d+s\s|run\.sh:)/.test(line) || /ERROR|unhealthy/i.test(line)) console.log(`        | ${line}`)
    }
  })
  if (r.code !== 0) throw new Error(describeFailure(`./run.sh ${args.join(' ')}`, r, 60))
  return r
}

// ---------------------------------------------------------------------------
// clean-up

async function cleanup(): Promise<void> {
  if (state.cleaning) return
  state.cleaning = true
  state.events?.kill('SIGTERM')
  if (KEEP && state.workdir !== undefined) {
    report.log(`STACK_TEST_KEEP=1: leaving the stack of project ${PROJECT} running in ${state.workdir}`)
    return
  }
  const t = Date.now()
  if (state.workdir !== undefined && state.compose.length > 0) {
    // Dummy values in case .env is missing: compose refuses every command without them.
    const r = await compose(['down', '--volumes', '--remove-orphans', '--timeout', '10'], 120_000, fallbackSecrets())
    if (r.code !== 0) report.log(describeFailure('compose down', r, 10))
  }
  // Whatever compose did not remove (a crashed earlier run, a renamed service).
  const label = `label=com.docker.compose.project=${PROJECT}`
  const left = await docker(['ps', '-aq', '--filter', label], 20_000)
  const ids = left.stdout.split('\n').filter(Boolean)
  if (ids.length > 0) await docker(['rm', '-f', '-v', ...ids], 60_000)
  for (const kind of ['network', 'volume'] as const) {
    const ls = await docker([kind, 'ls', '-q', '--filter', label], 20_000)
    const names = ls.stdout.split('\n').filter(Boolean)
    if (names.length > 0) await docker([kind, 'rm', ...names], 60_000)
  }
  // Official names must not keep pointing at stand-ins after the test.
  for (const name of state.taggedOfficial) {
    if ((await imageLabel(name)) === 'true') await docker(['rmi', '--no-prune', name], 30_000)
  }
  if (state.workdir !== undefined) rmSync(state.workdir, { recursive: true, force: true })
  report.timings.push({ name: 'clean up', ms: Date.now() - t })
}

async function stopDaemon(): Promise<void> {
  const child = state.startedDaemon
  if (child === undefined || child.exitCode !== null || child.pid === undefined) return
  report.log(`stopping the dockerd this test started (pid ${child.pid})`)
  child.kill('SIGTERM')
  const deadline = Date.now() + 30_000
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
    try {
      process.kill(child.pid, 0)
    } catch {
      break // gone
    }
    await sleep(250)
  }
  try {
    process.kill(child.pid, 0)
    child.kill('SIGKILL')
  } catch {
    // stopped
  }
  if (state.daemonLog !== undefined) rmSync(dirname(state.daemonLog), { recursive: true, force: true })
}

function fallbackSecrets(): NodeJS.ProcessEnv {
  const envFile = state.workdir === undefined ? '' : join(state.workdir, '.env')
  return existsSync(envFile) ? {} : { POSTGRES_PASSWORD: 'unused', REDIS_PASSWORD: 'unused' }
}

// ---------------------------------------------------------------------------
// checks

const url = (path: string): string => `http://127.0.0.1:${state.port}${path}`
const jsonInit = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body)
})

function expect(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new Error(msg)
}

async function getJson(path: string, status = 200, init: RequestInit = {}): Promise<unknown> {
  const r = await http(url(path), init)
  expect(
    r.status === status,
    `${init.method ?? 'GET'} ${path}: expected ${status}, got ${r.status} ${r.text.slice(0, 200)}`
  )
  return r.json
}

async function visitsTotal(): Promise<number> {
  const total = get(await getJson('/visits'), 'total')
  expect(typeof total === 'number', 'GET /visits has no numeric total')
  return total
}

async function checkEnvFile(): Promise<string> {
  const file = join(state.workdir ?? '', '.env')
  expect(existsSync(file), 'run.sh did not create .env')
  const text = readFileSync(file, 'utf8')
  const value = (name: string): string => new RegExp(`^${name}=(.*)$`, 'm').exec(text)?.[1] ?? ''
  const pg = value('POSTGRES_PASSWORD')
  const redis = value('REDIS_PASSWORD')
  expect(/^[0-9a-f]{32,}$/.test(pg) && /^[0-9a-f]{32,}$/.test(redis), 'passwords in .env are not long random values')
  expect(pg !== redis, 'the two passwords are the same')
  const mode = statSync(file).mode & 0o777
  expect((mode & 0o077) === 0, `.env is readable by others (mode ${mode.toString(8)})`)
  return `random passwords, mode ${mode.toString(8)}`
}

function checkStartOrder(): string {
  const ev = events()
  const firstHealthy = (svc: string): bigint | undefined =>
    ev.find((e) => e.service === svc && e.action.startsWith('health_status: healthy'))?.timeNano
  const webStart = ev.find((e) => e.service === 'web' && e.action === 'start')?.timeNano
  const db = firstHealthy('db')
  const cache = firstHealthy('cache')
  expect(
    db !== undefined && cache !== undefined && webStart !== undefined,
    `missing events (db healthy: ${db}, cache healthy: ${cache}, web start: ${webStart}); ${ev.length} events seen`
  )
  expect(webStart > db && webStart > cache, 'web started before db and cache were both healthy')
  const ms = (a: bigint, b: bigint): string => `${(Number(a - b) / 1e6).toFixed(0)} ms`
  return `web started ${ms(webStart, db)} after db and ${ms(webStart, cache)} after cache became healthy`
}

async function checkRoutes(): Promise<void> {
  await report.check('GET / counts a visit (JSON) and serves the status page to browsers', async () => {
    const before = await visitsTotal()
    const body = await getJson('/')
    expect(get(body, 'visits') === before + 1, `visits went from ${before} to ${String(get(body, 'visits'))}`)
    const page = await http(url('/'), { headers: { accept: 'text/html' } })
    expect(
      page.status === 200 && page.contentType.includes('text/html'),
      `browser page: ${page.status} ${page.contentType}`
    )
    return `visits ${before} -> ${before + 1}`
  })
  await report.check('GET /visits and /visits/recent', async () => {
    const v = await getJson('/visits')
    expect(
      get(v, 'label') === 'homepage' && typeof get(v, 'total') === 'number' && typeof get(v, 'cached') === 'boolean',
      `bad body ${JSON.stringify(v)}`
    )
    const recent = get(await getJson('/visits/recent?limit=5'), 'visits')
    expect(Array.isArray(recent) && recent.length >= 1, 'no recent visits')
  })
  await report.check('GET /db reaches PostgreSQL', async () => {
    const body = await getJson('/db')
    expect(get(body, 'status') === 'ok', JSON.stringify(body))
    return `PostgreSQL ${String(get(body, 'version')).split(' ')[0]}`
  })
  await report.check('GET /cache writes and reads the probe key in Redis', async () => {
    const body = await getJson('/cache')
    expect(get(body, 'status') === 'ok', JSON.stringify(body))
  })
  await report.check('POST, GET, DELETE /cache/:key', async () => {
    const value = { n: 1, s: 'stack' }
    await getJson('/cache', 201, jsonInit('POST', { key: 'e2e-probe', value, ttl: 600 }))
    const got = await getJson('/cache/e2e-probe')
    expect(JSON.stringify(get(got, 'value')) === JSON.stringify(value), `read back ${JSON.stringify(got)}`)
    const del = await http(url('/cache/e2e-probe'), { method: 'DELETE' })
    expect(del.status === 204, `DELETE: ${del.status}`)
    await getJson('/cache/e2e-probe', 404)
  })
  await report.check('GET /users and the users CRUD', async () => {
    const list = await getJson('/users')
    const total = get(list, 'total')
    expect(typeof total === 'number' && total >= 10, `expected the ten sample users, got ${String(total)}`)
    const name = `e2e_${Date.now()}`
    const created = await getJson('/users', 201, jsonInit('POST', { username: name, email: `${name}@example.com` }))
    const id = get(created, 'id')
    expect(typeof id === 'number', `POST /users returned ${JSON.stringify(created)}`)
    await getJson(`/users/${id}`)
    const patched = await getJson(`/users/${id}`, 200, jsonInit('PATCH', { email: `${name}@example.org` }))
    expect(get(patched, 'email') === `${name}@example.org`, `PATCH returned ${JSON.stringify(patched)}`)
    await getJson('/users', 409, jsonInit('POST', { username: name, email: `other-${name}@example.com` }))
    const del = await http(url(`/users/${id}`), { method: 'DELETE' })
    expect(del.status === 204, `DELETE: ${del.status}`)
    await getJson(`/users/${id}`, 404)
    return `${total} users`
  })
  await report.check('GET /health, /livez, /readyz report healthy', async () => {
    const h = await getJson('/health')
    expect(get(h, 'status') === 'healthy', JSON.stringify(h))
    expect(
      get(h, 'services', 'db', 'status') === 'up' && get(h, 'services', 'cache', 'status') === 'up',
      JSON.stringify(h)
    )
    await getJson('/livez')
    await getJson('/readyz')
  })
  await report.check('GET /metrics and /docs', async () => {
    const m = await http(url('/metrics'))
    expect(m.status === 200 && m.text.includes('# HELP'), `metrics: ${m.status}`)
    const d = await http(url('/docs'))
    expect(d.status === 200 && d.contentType.includes('text/html'), `docs: ${d.status} ${d.contentType}`)
  })
}

async function checkIsolation(): Promise<string> {
  const notes: string[] = []
  for (const svc of ['db', 'cache']) {
    const c = await inspect(await containerId(svc))
    const bindings = get(c, 'HostConfig', 'PortBindings')
    expect(!isRecord(bindings) || Object.keys(bindings).length === 0, `${svc} publishes ${JSON.stringify(bindings)}`)
    const published = get(c, 'NetworkSettings', 'Ports')
    if (isRecord(published))
      for (const [p, b] of Object.entries(published)) expect(b === null, `${svc} port ${p} bound on the host`)
    const nets = get(c, 'NetworkSettings', 'Networks')
    const names = isRecord(nets) ? Object.keys(nets) : []
    expect(names.length === 1 && names[0] === `${PROJECT}_backend`, `${svc} is on ${names.join(', ')}`)
  }
  const backend = await must(
    'network inspect',
    docker(['network', 'inspect', '--format', '{{.Internal}}', `${PROJECT}_backend`])
  )
  expect(backend.stdout.trim() === 'true', 'backend network is not internal')
  notes.push('no host port bound, only on the internal backend network')
  // Outside the backend network the names do not even resolve.
  const webImage = get(await inspect(await containerId('web')), 'Config', 'Image')
  expect(typeof webImage === 'string', 'cannot tell the web image')
  const probe = await docker(
    [
      'run',
      '--rm',
      '--network',
      `${PROJECT}_frontend`,
      '--entrypoint',
      'node',
      webImage,
      '-e',
      "require('dns').lookup('db',(e)=>require('dns').lookup('cache',(f)=>{console.log(e&&f?'unresolved':'resolved');}))"
    ],
    60_000
  )
  expect(
    probe.code === 0 && probe.stdout.trim() === 'unresolved',
    `from the frontend network: ${probe.stdout.trim()} ${probe.stderr.trim()}`
  )
  notes.push('db/cache unresolvable from the frontend network')
  return notes.join('; ')
}

async function checkHardening(): Promise<string> {
  const c = await inspect(await containerId('web'))
  expect(get(c, 'HostConfig', 'ReadonlyRootfs') === true, 'root filesystem is writable')
  expect(get(c, 'HostConfig', 'Init') === true, 'no init process')
  const script = [
    "const fs=require('fs');",
    'const out={uid:process.getuid()};',
    "try{fs.writeFileSync('/app/web/x','1');out.app='writable'}catch(e){out.app=e.code}",
    "try{fs.writeFileSync('/tmp/x','1');fs.unlinkSync('/tmp/x');out.tmp='writable'}catch(e){out.tmp=e.code}",
    "out.pid1=fs.readFileSync('/proc/1/cmdline','utf8').split('\\0').join(' ').trim();",
    "out.procs=fs.readdirSync('/proc').filter(p=>/^\\d+$/.test(p)).map(p=>{try{return fs.readFileSync('/proc/'+p+'/cmdline','utf8').split('\\0').join(' ').trim()}catch{return ''}}).filter(Boolean);",
    'console.log(JSON.stringify(out))'
  ].join('')
  const r = await must('exec in web', compose(['exec', '-T', 'web', 'node', '-e', script], 30_000))
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as unknown
  expect(typeof get(out, 'uid') === 'number' && get(out, 'uid') !== 0, `runs as uid ${String(get(out, 'uid'))}`)
  expect(get(out, 'app') === 'EROFS', `writing under /app/web: ${String(get(out, 'app'))}`)
  expect(get(out, 'tmp') === 'writable', `writing to /tmp: ${String(get(out, 'tmp'))}`)
  const procs = get(out, 'procs')
  expect(
    Array.isArray(procs) && procs.some((p) => p === 'node dist/src/server.js'),
    `no "node dist/src/server.js" process: ${JSON.stringify(procs)}`
  )
  expect(
    !(procs as unknown[]).some((p) => typeof p === 'string' && /\bnpm\b/.test(p) && !/node -e/.test(p)),
    'npm is running in the container'
  )
  return `uid ${String(get(out, 'uid'))}, /app read-only (EROFS), /tmp writable, PID 1: ${String(get(out, 'pid1'))}`
}

async function checkRedisAndLimits(): Promise<string> {
  const noauth = await compose(
    ['exec', '-T', 'cache', 'sh', '-c', 'env -u REDISCLI_AUTH redis-cli -h 127.0.0.1 ping'],
    30_000
  )
  expect(
    /NOAUTH|Authentication required/i.test(noauth.stdout + noauth.stderr),
    `unauthenticated PING answered: ${noauth.stdout.trim()}`
  )
  const aof = await must(
    'redis-cli config get appendonly',
    compose(['exec', '-T', 'cache', 'redis-cli', '-h', '127.0.0.1', 'config', 'get', 'appendonly'], 30_000)
  )
  expect(/appendonly\s+yes/.test(aof.stdout), `appendonly: ${aof.stdout.trim()}`)
  const limits: string[] = []
  for (const svc of ['db', 'cache', 'web']) {
    const c = await inspect(await containerId(svc))
    const mem = get(c, 'HostConfig', 'Memory')
    const cpus = get(c, 'HostConfig', 'NanoCpus')
    const maxSize = get(c, 'HostConfig', 'LogConfig', 'Config', 'max-size')
    const restart = get(c, 'HostConfig', 'RestartPolicy', 'Name')
    expect(typeof mem === 'number' && mem > 0 && typeof cpus === 'number' && cpus > 0, `${svc} has no memory/cpu limit`)
    expect(typeof maxSize === 'string', `${svc} logs are not rotated`)
    expect(restart === 'unless-stopped', `${svc} restart policy ${String(restart)}`)
    limits.push(`${svc} ${Math.round(mem / 2 ** 20)}M/${cpus / 1e9}cpu`)
  }
  return `Redis refuses unauthenticated clients, appendonly yes; ${limits.join(', ')}`
}

async function checkCacheOutage(): Promise<void> {
  const web = await containerId('web')
  const before = await inspect(web)
  const startedAt = get(before, 'State', 'StartedAt')
  await report.check('docker-compose kill cache: /health 503 degraded, visits still count', async () => {
    const t = Date.now()
    await must('compose kill cache', compose(['kill', 'cache'], 60_000))
    const body = await waitUntil('/health 503 degraded', 30_000, async () => {
      const r = await http(url('/health'))
      return r.status === 503 && get(r.json, 'status') === 'degraded' ? r.json : undefined
    })
    expect(
      get(body, 'services', 'cache', 'status') === 'down' && get(body, 'services', 'db', 'status') === 'up',
      JSON.stringify(body)
    )
    const noticed = Date.now() - t
    const a = get(await getJson('/'), 'visits')
    const b = get(await getJson('/'), 'visits')
    expect(typeof a === 'number' && b === a + 1, `visits during the outage: ${String(a)} then ${String(b)}`)
    const cacheState = get(await inspect(await containerId('cache')), 'State', 'Status')
    expect(
      cacheState === 'exited',
      `cache is ${String(cacheState)} (restart policy must not revive a killed container)`
    )
    return `degraded after ${(noticed / 1000).toFixed(1)}s; visits ${String(a)} -> ${String(b)}`
  })
  await report.check('docker-compose start cache: healthy again without restarting web', async () => {
    const t = Date.now()
    await must('compose start cache', compose(['start', 'cache'], 60_000))
    await waitUntil('/health 200 healthy', 60_000, async () => {
      const r = await http(url('/health'))
      return r.status === 200 && get(r.json, 'status') === 'healthy' ? true : undefined
    })
    const recovered = Date.now() - t
    const after = await inspect(await containerId('web'))
    expect(get(after, 'Id') === get(before, 'Id'), 'web container was replaced')
    expect(get(after, 'State', 'StartedAt') === startedAt && get(after, 'RestartCount') === 0, 'web was restarted')
    await getJson('/cache')
    return `healthy ${(recovered / 1000).toFixed(1)}s after start; web not restarted`
  })
}

async function checkStopWeb(): Promise<string> {
  const r = await must('compose stop web', compose(['stop', 'web'], 60_000))
  const c = await inspect(await containerId('web'))
  const code = get(c, 'State', 'ExitCode')
  expect(r.ms < 10_000, `stop took ${(r.ms / 1000).toFixed(1)}s`)
  expect(code === 0 || code === 143, `web exited with ${String(code)} (137 = killed after the grace period)`)
  const logs = await compose(['logs', '--no-color', '--tail', '5', 'web'], 30_000)
  const clean = /stopped cleanly/.test(logs.stdout)
  return `${(r.ms / 1000).toFixed(1)}s, exit code ${String(code)}${clean ? ', "stopped cleanly" logged' : ''}`
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  report.log(`end-to-end stack test (time limit ${TOTAL_TIMEOUT_MS / 1000}s)`)
  const tools = await report.phase('tools (docker.io, docker-compose, debootstrap)', ensureTools)
  report.log(`  ${tools}`)
  report.log(`  ${await report.phase('Docker daemon', ensureDaemon)}`)
  report.log(`  base image: ${await report.phase('base image (debootstrap + docker import)', ensureBaseImage)}`)
  report.log(`  ${await report.phase('stand-in images', buildStandIns)}`)
  report.log(`  ${await report.phase('copy of the repository', copyRepository)}`)
  state.port = await freePort()
  state.env = { ...process.env, COMPOSE_PROJECT_NAME: PROJECT, WEB_PORT: String(state.port) }
  await report.phase('remove leftovers of an earlier run', async () => {
    await compose(['down', '--volumes', '--remove-orphans', '--timeout', '5'], 120_000, fallbackSecrets())
  })
  startEventRecorder()
  await sleep(300) // let `docker events` subscribe before anything starts

  const first = await report.phase('./run.sh (first start: build + up + healthy)', () => runScript([], 360_000))
  await report.check('run.sh prints the URLs', async () => {
    expect(first.stdout.includes(`http://localhost:${state.port}/`), 'no URL with the published port in the output')
  })
  await report.check('run.sh created .env from .env.example with random passwords', checkEnvFile)
  await report.check('web started only after db and cache were healthy', async () => checkStartOrder())
  await checkRoutes()
  await report.check('npm run doctor inside web passes (db and cache by service name)', async () => {
    const r = await must(
      'compose exec web npm run doctor',
      compose(['exec', '-T', 'web', 'npm', 'run', 'doctor'], 60_000)
    )
    const lines = r.stdout.trim().split('\n')
    return lines[lines.length - 1]?.trim()
  })
  await report.check('db and cache are not reachable from the host', checkIsolation)
  await report.check('web runs as non-root with a read-only root filesystem, node as the process', checkHardening)
  await report.check(
    'Redis requires a password and persists (AOF); limits, log rotation, restart policy',
    checkRedisAndLimits
  )

  // Persistence across down + up.
  const key = 'e2e-persist'
  const visits = await report.phase('write a visit and a cache key', async () => {
    await getJson('/')
    await getJson('/cache', 201, jsonInit('POST', { key, value: 'kept', ttl: 3600 }))
    return visitsTotal()
  })
  await report.phase('./run.sh again (down + up, volumes kept)', () => runScript([], 240_000))
  await report.check('the visit count and the cache key survive down + up', async () => {
    const total = await visitsTotal()
    expect(total === visits, `visits ${visits} before, ${total} after`)
    const v = await getJson(`/cache/${key}`)
    expect(get(v, 'value') === 'kept', `key after restart: ${JSON.stringify(v)}`)
    return `visits ${total}, key kept`
  })
  await report.phase('./run.sh --reset', () => runScript(['--reset'], 240_000))
  await report.check('run.sh --reset clears them', async () => {
    const total = await visitsTotal()
    expect(total === 0, `visits after reset: ${total}`)
    await getJson(`/cache/${key}`, 404)
    return 'visits 0, key gone'
  })
  await checkCacheOutage()
  await report.check('docker-compose stop web takes under 10 s (signals reach node)', checkStopWeb)
}

function printSummary(): number {
  console.log('\ntimings:')
  for (const t of report.timings) console.log(`  ${(t.ms / 1000).toFixed(1).padStart(7)}s  ${t.name}`)
  console.log(`  ${((Date.now() - report.startedAt) / 1000).toFixed(1).padStart(7)}s  total`)
  console.log('\nchecks:')
  for (const r of report.results)
    console.log(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}${r.ok ? '' : `: ${r.detail.split('\n')[0]}`}`)
  const { passed, failed } = report.summary()
  console.log(`\n${passed} passed, ${failed} failed`)
  return failed === 0 && passed > 0 ? 0 : 1
}

let finished = false
async function finish(): Promise<never> {
  if (finished) process.exit(1)
  finished = true
  try {
    await cleanup()
    if (!KEEP) {
      await report.check('clean-up left no container, network or volume of the test project', async () => {
        const label = `label=com.docker.compose.project=${PROJECT}`
        const leftovers: string[] = []
        for (const args of [
          ['ps', '-aq'],
          ['network', 'ls', '-q'],
          ['volume', 'ls', '-q']
        ]) {
          const r = await docker([...args, '--filter', label], 20_000)
          leftovers.push(...r.stdout.split('\n').filter(Boolean))
        }
        expect(leftovers.length === 0, `left behind: ${leftovers.join(' ')}`)
      })
    }
    if (KEEP && state.startedDaemon !== undefined)
      report.log(`STACK_TEST_KEEP=1: leaving dockerd (pid ${state.startedDaemon.pid}) running`)
    else await stopDaemon()
  } catch (err) {
    report.fail('clean-up', err)
  }
  killAll()
  process.exit(printSummary())
}

const timer = setTimeout(() => {
  report.fail('time limit', new Error(`the run took longer than ${TOTAL_TIMEOUT_MS / 1000}s`))
  killAll()
  void finish()
}, TOTAL_TIMEOUT_MS)

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    report.fail('interrupted', new Error(`received ${sig}`))
    killAll()
    void finish()
  })
}

try {
  await main()
} catch (err) {
  if (!(err instanceof PhaseError))
    report.fail('unexpected error', err instanceof Error ? (err.stack ?? err.message) : err)
}
clearTimeout(timer)
await finish()
