// The ceiling: a bare Fastify "hello world" (hello.mjs) in its own process, stopped with everything else.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { WEB_DIR } from '../paths.js'
import { freePort } from '../servers.js'
import { track } from './lifecycle.js'
import { capture } from '../servers.js'
import { waitForHttp, type Listening } from './wait.js'

export async function startCeiling(): Promise<Listening> {
  const port = await freePort()
  const ceiling = track(
    spawn(process.execPath, [fileURLToPath(new URL('./hello.mjs', import.meta.url))], {
      cwd: WEB_DIR,
      env: { ...process.env, NODE_ENV: 'production', PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe']
    })
  )
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/`, ceiling, capture(ceiling, 8000), 15_000)
  return { url, pid: ceiling.pid ?? 0 }
}
