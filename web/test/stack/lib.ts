// Small helpers for the end-to-end stack test: processes with time limits,
// a check/timing recorder, HTTP with a time limit.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
  timedOut: boolean
}

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
  input?: string
  /** Called with each complete line of stdout and stderr as it arrives. */
  onLine?: (line: string) => void
}

const running = new Set<number>()

/** Kill every process group this module started and that is still running. */
export function killAll(): void {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  running.clear()
}

/** Run a command to completion (or until its time limit), capturing its output. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Own process group, so a time-out can stop the command and its children.
      detached: true
    })
    const pid = child.pid
    if (pid !== undefined) running.add(pid)
    let stdout = ''
    let stderr = ''
    let timedOut = false
    const pending = { out: '', err: '' }
    const feed = (which: 'out' | 'err', chunk: string): void => {
      if (opts.onLine === undefined) return
      pending[which] += chunk
      const lines = pending[which].split('\n')
      pending[which] = lines.pop() ?? ''
      for (const line of lines) opts.onLine(line)
    }
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      feed('out', d)
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      feed('err', d)
    })
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            if (pid !== undefined) {
              try {
                process.kill(-pid, 'SIGKILL')
              } catch {
                // already gone
              }
            }
          }, opts.timeoutMs)
    child.on('error', (err) => {
      stderr += String(err)
    })
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer)
      if (pid !== undefined) running.delete(pid)
      if (opts.onLine !== undefined) {
        if (pending.out !== '') opts.onLine(pending.out)
        if (pending.err !== '') opts.onLine(pending.err)
      }
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, timedOut })
    })
    child.stdin.on('error', () => undefined)
    child.stdin.end(opts.input ?? '')
  })
}

/** One line describing why a command failed, with the end of its output. */
export function describeFailure(what: string, r: RunResult, tailLines = 25): string {
  const why = r.timedOut ? 'timed out' : `exited ${r.code ?? r.signal ?? '?'}`
  const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-tailLines).join('\n    ')
  return `${what} ${why} after ${(r.ms / 1000).toFixed(1)}s\n    ${tail}`
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A TCP port that is free right now on this machine. */
export function freePort(): Promise<number> {
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

export interface HttpResult {
  status: number
  contentType: string
  text: string
  json: unknown
}

/** One HTTP request to the stack with a time limit; the body is parsed as JSON when it is JSON. */
export async function http(url: string, init: RequestInit = {}, timeoutMs = 10_000): Promise<HttpResult> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
  const text = await res.text()
  const contentType = res.headers.get('content-type') ?? ''
  let json: unknown = undefined
  if (contentType.includes('json') && text !== '') json = JSON.parse(text) as unknown
  return { status: res.status, contentType, text, json }
}

/** Poll until `fn` returns a value (not undefined) or the time is up. */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  fn: () => Promise<T | undefined>,
  everyMs = 500
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError = ''
  for (;;) {
    try {
      const value = await fn()
      if (value !== undefined) return value
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err)
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs / 1000}s${lastError ? ` (last error: ${lastError})` : ''}`)
    await sleep(everyMs)
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Reads a nested property of parsed JSON: get(body, 'services', 'db', 'status'). */
export function get(v: unknown, ...path: string[]): unknown {
  let cur: unknown = v
  for (const key of path) {
    if (!isRecord(cur)) return undefined
    cur = cur[key]
  }
  return cur
}

export class Report {
  readonly startedAt = Date.now()
  readonly timings: Array<{ name: string; ms: number }> = []
  readonly results: Array<{ name: string; ok: boolean; detail: string; ms: number }> = []

  elapsed(): string {
    return `${((Date.now() - this.startedAt) / 1000).toFixed(1).padStart(6)}s`
  }

  log(msg: string): void {
    console.log(`[${this.elapsed()}] ${msg}`)
  }

  /** A step that must succeed for the rest to make sense: a failure is recorded and thrown. */
  async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t = Date.now()
    this.log(`${name} ...`)
    try {
      const value = await fn()
      const ms = Date.now() - t
      this.timings.push({ name, ms })
      this.log(`${name}: done in ${(ms / 1000).toFixed(1)}s`)
      return value
    } catch (err) {
      const ms = Date.now() - t
      this.timings.push({ name: `${name} (failed)`, ms })
      this.fail(name, err, ms)
      throw new PhaseError(name)
    }
  }

  /** One check: its failure is recorded and the run goes on. */
  async check(name: string, fn: () => Promise<string | void>): Promise<boolean> {
    const t = Date.now()
    try {
      const detail = (await fn()) ?? ''
      const ms = Date.now() - t
      this.results.push({ name, ok: true, detail, ms })
      this.log(`ok    ${name}${detail ? ` (${detail})` : ''}`)
      return true
    } catch (err) {
      this.fail(name, err, Date.now() - t)
      return false
    }
  }

  fail(name: string, err: unknown, ms = 0): void {
    const detail = err instanceof Error ? err.message : String(err)
    this.results.push({ name, ok: false, detail, ms })
    this.log(`FAIL  ${name}: ${detail}`)
  }

  summary(): { passed: number; failed: number } {
    const passed = this.results.filter((r) => r.ok).length
    return { passed, failed: this.results.length - passed }
  }
}

export class PhaseError extends Error {
  constructor(phase: string) {
    super(`phase failed: ${phase}`)
  }
}
