/**
 * Everything the benchmark starts is registered here and stopped by cleanup(): after the run, on
 * error, when the time budget runs out, and on Ctrl-C.
 */
import type { ChildProcess } from 'node:child_process'
import { log } from '../log.js'

interface Destroyable {
  destroy(): Promise<void>
}

const children = new Set<ChildProcess>()
const servers: Destroyable[] = []
let cleaningUp: Promise<void> | undefined

export function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** A private server, destroyed after the child processes (which may be its clients) have stopped. */
export function trackServer<T extends Destroyable>(server: T): T {
  servers.push(server)
  return server
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

export function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    await Promise.all([...children].map((child) => stopChild(child)))
    await Promise.all(servers.map((server) => server.destroy().catch(() => undefined)))
  })()
  return cleaningUp
}

export function cleanupOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping everything the benchmark started...\n`)
      void cleanup().finally(() => process.exit(130))
    })
  }
}

/** Stops everything and exits if the run outlasts its budget; clear the returned timer when done. */
export function stopAfter(budgetS: number): NodeJS.Timeout {
  const deadline = setTimeout(() => {
    log(`time budget of ${budgetS} s exceeded; stopping`)
    void cleanup().finally(() => process.exit(1))
  }, budgetS * 1000)
  deadline.unref()
  return deadline
}
