// Records the test project's container events (`docker events`), to tell in which order the
// services started and became healthy.
import { spawn, type ChildProcess } from 'node:child_process'
import { DOCKER } from './engine.js'
import { PROJECT_LABEL } from './stack.js'
import { get } from './lib/json.js'
import { sleep } from './lib/process.js'

export interface DockerEvent {
  action: string
  service: string
  timeNano: bigint
}

const lines: string[] = []
let recorder: ChildProcess | undefined

export async function startEventRecorder(): Promise<void> {
  const child = spawn(
    DOCKER,
    ['events', '--format', '{{json .}}', '--filter', 'type=container', '--filter', PROJECT_LABEL],
    { stdio: ['ignore', 'pipe', 'ignore'] }
  )
  let pending = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    pending += d
    const parts = pending.split('\n')
    pending = parts.pop() ?? ''
    lines.push(...parts.filter((l) => l.trim() !== ''))
  })
  recorder = child
  await sleep(300) // let `docker events` subscribe before anything starts
}

export function stopEventRecorder(): void {
  recorder?.kill('SIGTERM')
  recorder = undefined
}

export function events(): DockerEvent[] {
  const out: DockerEvent[] = []
  for (const line of lines) {
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
