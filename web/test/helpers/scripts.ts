/** Runs one of the service's scripts (`node --import tsx <script>`) from web/ with only the given environment. */
import { spawn } from 'node:child_process'

export const WEB = new URL('../..', import.meta.url).pathname

export interface ScriptRun {
  code: number | null
  stdout: string
  stderr: string
}

export function runScript(script: string, env: Record<string, string>, timeoutMs = 30_000): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: WEB,
      env: { PATH: process.env.PATH ?? '', ...env }
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
