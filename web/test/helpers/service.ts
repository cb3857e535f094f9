/**
 * The real server process (`node --import tsx src/server.ts`) on private PostgreSQL and Redis,
 * for tests that need signals, process memory or an event loop of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before } from 'node:test'
import { PgServer, RedisServer, freePort, serviceEnv } from '../../dev/private-servers/index.js'
import { stopAllLoads } from './load.js'

const WEB = new URL('../..', import.meta.url).pathname

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

export interface ServiceProcess {
  url: string
  port: number
  child: ChildProcess
  pid: number
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Resident set size in KiB, from /proc. */
  rssKb(): number
  /** SIGKILL if still running; waits for the exit. */
  destroy(): Promise<void>
}

/** Starts the server with `env` (from serviceEnv) and waits until /livez answers. */
export async function spawnService(env: Record<string, string>, readyTimeoutMs = 40_000): Promise<ServiceProcess> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: WEB,
    env: { PATH: process.env.PATH ?? '', ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  running.add(child)
  let text = ''
  const keep = (chunk: Buffer) => {
    if (text.length < 4_000_000) text += chunk.toString()
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    })
  )
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + readyTimeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode}:\n${text}`)
    try {
      const res = await fetch(`${url}/livez`, { signal: AbortSignal.timeout(1000) })
      if (res.status === 200) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the service did not answer /livez within ${readyTimeoutMs} ms:\n${text}`)
    }
    await sleep(100)
  }
  const pid = child.pid as number
  return {
    url,
    port,
    child,
    pid,
    output: () => text,
    exited,
    rssKb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN),
    async destroy() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    }
  }
}

/** Polls until check() is true, or fails with `what`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
  everyMs = 100
): Promise<number> {
  const started = Date.now()
  for (;;) {
    try {
      if (await check()) return Date.now() - started
    } catch {
      // keep polling
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`)
    await sleep(everyMs)
  }
}

/** What a long test file runs against. The fields are set by the file's `before` hook. */
export interface LiveService {
  pg: PgServer
  redis: RedisServer
  service: ServiceProcess
}

/**
 * Registers the file's hooks: before its tests, private PostgreSQL and Redis and the service on
 * them; after them, every load stopped, then the service, then the servers (also when tests fail).
 */
export function liveServiceForFile(extraEnv: Record<string, string> = {}): LiveService {
  const live = {} as LiveService
  before(async () => {
    ;[live.pg, live.redis] = await Promise.all([PgServer.start(), RedisServer.start()])
    live.service = await spawnService(serviceEnv(live.pg, live.redis, extraEnv))
  })
  after(async () => {
    await stopAllLoads()
    await live.service?.destroy()
    await Promise.all([live.pg?.destroy(), live.redis?.destroy()])
  })
  return live
}
