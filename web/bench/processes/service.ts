// The service under test: compiled, in production mode, logging at warn; one or more replicas. It migrates at start.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { log } from '../log.js'
import type { Options } from '../options.js'
import { PROF_DIR, WEB_DIR } from '../paths.js'
import { rssMb } from '../sampling/memory.js'
import { freePort, serviceEnv } from '../servers.js'
import type { Databases } from './databases.js'
import { track } from './lifecycle.js'
import { capture } from '../servers.js'
import { waitForHttp, type Listening } from './wait.js'

/** Builds the service unless --no-build; returns its compiled entry point. */
export function buildService(build: boolean): string {
  if (build) {
    log('building the service (npm run build)')
    const result = spawnSync('npm', ['run', 'build'], { cwd: WEB_DIR, stdio: ['ignore', 'ignore', 'inherit'] })
    if (result.status !== 0) throw new Error('npm run build failed')
  }
  const entry = join(WEB_DIR, 'dist', 'src', 'server.js')
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run without --no-build`)
  return entry
}

/**
 * The Node flags of `npm start` (web/Dockerfile's CMD repeats them), so the service is measured as
 * it runs; then --node-args (a later flag wins), and with --cpu-prof the flags that write a profile.
 */
export function serviceNodeArgs(options: Pick<Options, 'nodeArgs' | 'cpuProf'>, webDir = WEB_DIR): string[] {
  const start = (JSON.parse(readFileSync(join(webDir, 'package.json'), 'utf8')) as { scripts: { start: string } })
    .scripts.start
  const production = start.split(' ').filter((word) => word.startsWith('--'))
  return [...production, ...options.nodeArgs, ...(options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', PROF_DIR] : [])]
}

/** NEAR_CACHE_* from the bench's own environment, so a run can measure the service without it. */
function nearCacheEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('NEAR_CACHE_'))
  )
}

export type Replica = Listening & { idleRssMb: number }

/**
 * `count` replicas on as many ports, against the same PostgreSQL and Redis. One after the other,
 * as a rolling start would: the first applies the migrations, the others find nothing to apply.
 */
export async function startReplicas(
  entry: string,
  nodeArgs: string[],
  databases: Databases,
  count: number
): Promise<[Replica, ...Replica[]]> {
  const replicas: [Replica, ...Replica[]] = [await startService(entry, nodeArgs, databases)]
  for (let i = 1; i < count; i++) replicas.push(await startService(entry, nodeArgs, databases))
  return replicas
}

async function startService(entry: string, nodeArgs: string[], { pg, redis }: Databases): Promise<Replica> {
  const port = await freePort()
  const service = track(
    spawn(process.execPath, [...nodeArgs, entry], {
      // The web/ folder the entry point (web/dist/src/server.js) was built in: this tree's, or --against's.
      cwd: join(dirname(entry), '..', '..'),
      env: {
        PATH: process.env.PATH ?? '',
        // OTEL_* from the bench's own environment: measure the service with tracing on (docs/tracing.md).
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('OTEL_'))),
        ...serviceEnv(pg, redis, { NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(port), ...nearCacheEnv() })
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
  )
  const output = capture(service, 8000)
  service.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[service] ${chunk.toString()}`))
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/livez`, service, output, 60_000)
  const pid = service.pid
  if (pid === undefined) throw new Error('service has no pid')
  return { url, pid, idleRssMb: rssMb(pid) ?? 0 }
}
