// One load run: load-generator.ts in a child process of its own, with a time limit.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { LoadJob, LoadResult } from './load-generator.js'
import { track } from './lifecycle.js'

const GENERATOR = fileURLToPath(new URL('./load-generator.ts', import.meta.url))

export function runLoad(job: LoadJob): Promise<LoadResult> {
  const child = track(
    fork(GENERATOR, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
  )
  return new Promise((resolve, reject) => {
    const limit = setTimeout(
      () => {
        child.kill('SIGKILL')
        reject(new Error(`load generator did not finish within ${job.warmupS + job.durationS + 60} s`))
      },
      (job.warmupS + job.durationS + 60) * 1000
    )
    child.once('message', (message: { result?: LoadResult; error?: string }) => {
      clearTimeout(limit)
      if (message.result) resolve(message.result)
      else reject(new Error(`load generator failed: ${message.error}`))
    })
    child.once('exit', (code) => {
      clearTimeout(limit)
      reject(new Error(`load generator exited with code ${code}`))
    })
    child.send(job)
  })
}
