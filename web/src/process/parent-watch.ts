import { readFileSync } from 'node:fs'

/** How often to look whether the processes that started us are still there. */
const CHECK_MS = 500
/** Launchers between a user (or supervisor) and node: npm itself and the shell it runs scripts in. */
const LAUNCHER = /^(npm|sh|bash|dash)\b/

/** The parent of `pid`, or undefined once it has exited (gone or a zombie); Linux /proc only. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return state === 'Z' ? undefined : Number(ppid)
  } catch {
    return undefined
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
  } catch {
    return ''
  }
}

/**
 * Started by npm (`npm start`), the service stops when npm does. npm exits on SIGTERM without
 * waiting for its script, and its shell dies without passing the signal on, which would leave the
 * server running, orphaned, holding the port; whoever signalled npm meant the server. So each
 * link of the npm/shell chain above us is watched, and a broken link stops us the same graceful
 * way as SIGTERM.
 */
export function stopWhenNpmStops(): void {
  if (process.env.npm_lifecycle_event === undefined) return
  const chain: Array<[pid: number, parent: number]> = []
  for (let pid = process.pid, parent = parentOf(pid); parent !== undefined && parent > 1;) {
    chain.push([pid, parent])
    if (!LAUNCHER.test(commandOf(parent))) break
    pid = parent
    parent = parentOf(pid)
  }
  if (chain.length === 0) chain.push([process.pid, process.ppid])
  const timer = setInterval(() => {
    if (chain.every(([pid, parent]) => (pid === process.pid ? process.ppid : parentOf(pid)) === parent)) return
    clearInterval(timer)
    process.kill(process.pid, 'SIGTERM')
  }, CHECK_MS)
  timer.unref()
}
