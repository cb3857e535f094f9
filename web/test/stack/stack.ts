// The stack under test: a copy of the repository, run under its own Compose project name, its own
// stand-in image names and a free host port, so that nothing of a developer's own stack is touched.
import { existsSync, mkdtempSync, mkdirSync, copyFileSync, statSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer } from 'node:net'
import { docker, DOCKER, PATH } from './engine.js'
import { run, must, describeFailure, type RunResult } from './lib/process.js'
import { isRecord } from './lib/json.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
/** STACK_TEST_PROJECT lets two runs share one engine without touching each other's things. */
export const PROJECT = process.env.STACK_TEST_PROJECT ?? 'wdcstacktest'
/**
 * Names the stand-in images ./run.sh --offline builds for the test (offline/stand-ins.sh). With
 * STACK_TEST_STAND_IN_PREFIX the test uses stand-ins already built under that prefix (on an engine
 * it shares, say) and leaves them there; otherwise it builds its own and removes them at the end.
 */
export const SHARED_STAND_INS = (process.env.STACK_TEST_STAND_IN_PREFIX ?? '') !== ''
export const STAND_IN_PREFIX = SHARED_STAND_INS ? (process.env.STACK_TEST_STAND_IN_PREFIX ?? '') : `${PROJECT}-stand-in`
/** The stand-ins by the names compose.yaml reads: what compose needs beside ./run.sh --offline. */
export const STAND_IN_IMAGES = {
  POSTGRES_IMAGE: `${STAND_IN_PREFIX}/postgres:bookworm`,
  REDIS_IMAGE: `${STAND_IN_PREFIX}/redis:bookworm`,
  PROXY_IMAGE: `${STAND_IN_PREFIX}/haproxy:bookworm`,
  NODE_IMAGE: `${STAND_IN_PREFIX}/node:bookworm`
}
export const PROJECT_LABEL = `label=com.docker.compose.project=${PROJECT}`

export const stack = { workdir: '', port: 0 }

/** The environment run.sh and compose see: the test's project, port and stand-in names. */
export function stackEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH,
    COMPOSE_PROJECT_NAME: PROJECT,
    WEB_PORT: String(stack.port),
    STAND_IN_PREFIX,
    ...extra
  }
}

/** A TCP port that is free right now on this machine. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** A copy of the repository's files (tracked and untracked, not ignored) without any .env. */
export async function copyRepository(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'wdc-stack-'))
  stack.workdir = dir
  stack.port = await freePort()
  const r = await must(
    'git ls-files',
    run('git', ['-C', ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { timeoutMs: 30_000 })
  )
  let n = 0
  for (const rel of r.stdout.split('\0')) {
    if (rel === '' || rel === '.env' || rel.endsWith('/.env')) continue
    const src = join(ROOT, rel)
    if (!existsSync(src) || !statSync(src).isFile()) continue
    mkdirSync(dirname(join(dir, rel)), { recursive: true })
    copyFileSync(src, join(dir, rel)) // keeps the mode bits (run.sh stays executable)
    n++
  }
  return `${n} files in ${dir}; web on port ${stack.port}`
}

export function removeCopy(): void {
  if (stack.workdir !== '') rmSync(stack.workdir, { recursive: true, force: true })
}

let composeCmd: string[] | undefined
/** `docker compose -f compose.yaml ...` (or docker-compose): the production shape, as run.sh runs it. */
export async function compose(
  args: string[],
  timeoutMs = 120_000,
  extraEnv: NodeJS.ProcessEnv = {}
): Promise<RunResult> {
  if (composeCmd === undefined) {
    const v2 = await docker(['compose', 'version'], 20_000)
    composeCmd = v2.code === 0 ? [DOCKER, 'compose'] : ['docker-compose']
  }
  const [cmd = 'docker-compose', ...pre] = composeCmd
  return run(cmd, [...pre, '-f', 'compose.yaml', ...args], {
    cwd: stack.workdir,
    env: stackEnv(extraEnv),
    timeoutMs
  })
}

/** ./run.sh in the copy, its own lines echoed; throws when it fails. */
export async function runScript(args: string[], timeoutMs: number): Promise<RunResult> {
  const r = await runScriptAllowingFailure(args, timeoutMs)
  if (r.code !== 0) throw new Error(describeFailure(`./run.sh ${args.join(' ')}`, r, 60))
  return r
}

export function runScriptAllowingFailure(
  args: string[],
  timeoutMs: number,
  extraEnv: NodeJS.ProcessEnv = {}
): Promise<RunResult> {
  return run('./run.sh', args, {
    cwd: stack.workdir,
    env: stackEnv(extraEnv),
    timeoutMs,
    onLine: (line) => {
      // run.sh's own lines; build and pull output stays in the captured text.
      if (/^(==>|\s+\d+s\s|run\.sh:|offline:)/.test(line)) console.log(`        | ${line}`)
    }
  })
}

/** The container of a service, running or not, found by Compose's labels (names differ between versions). */
export async function containerOf(service: string): Promise<string> {
  const r = await must(
    `containers of ${service}`,
    docker(['ps', '-aq', '--filter', PROJECT_LABEL, '--filter', `label=com.docker.compose.service=${service}`])
  )
  const ids = r.stdout.split('\n').filter(Boolean)
  if (ids.length !== 1) throw new Error(`expected one container for ${service}, found ${ids.length}`)
  return ids[0] ?? ''
}

export async function inspect(id: string): Promise<Record<string, unknown>> {
  const r = await must(`docker inspect ${id}`, docker(['inspect', id]))
  const arr = JSON.parse(r.stdout) as unknown
  if (!Array.isArray(arr) || !isRecord(arr[0])) throw new Error(`unexpected docker inspect output for ${id}`)
  return arr[0]
}

/** The project's network for a name in compose.yaml, found by Compose's labels. */
export async function networkOf(name: string): Promise<string> {
  const r = await must(
    `network ${name}`,
    docker(['network', 'ls', '-q', '--filter', PROJECT_LABEL, '--filter', `label=com.docker.compose.network=${name}`])
  )
  const ids = r.stdout.split('\n').filter(Boolean)
  if (ids.length !== 1) throw new Error(`expected one network ${name}, found ${ids.length}`)
  return ids[0] ?? ''
}
