// Waiting for a started server to answer, with its last output at hand if it never does.
import type { ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'

/** A server this run started, once it answers. */
export interface Listening {
  url: string
  pid: number
}

export async function waitForHttp(
  url: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number
): Promise<void> {
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
