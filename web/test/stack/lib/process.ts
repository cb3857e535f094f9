// Child processes with time limits, for the stack test: each runs in its own process group so a
// time-out (or the end of the test) stops the command and everything it started.
import { spawn } from 'node:child_process'

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

/** Why a command failed, with the end of its output. */
export function describeFailure(what: string, r: RunResult, tailLines = 25): string {
  const why = r.timedOut ? 'timed out' : `exited ${r.code ?? r.signal ?? '?'}`
  const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-tailLines).join('\n    ')
  return `${what} ${why} after ${(r.ms / 1000).toFixed(1)}s\n    ${tail}`
}

/** The result of a command that must succeed; throws with its output otherwise. */
export async function must(what: string, p: Promise<RunResult>): Promise<RunResult> {
  const r = await p
  if (r.code !== 0) throw new Error(describeFailure(what, r))
  return r
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

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
