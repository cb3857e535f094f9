// The Docker engine the stack test runs on, and the tools it needs.
//
// A running engine is used as it is (CI starts one on an empty data folder). When none answers,
// the test starts dockerd on a temporary data folder of its own, so it begins from a clean engine
// and leaves nothing behind, and stops it at the end.
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs'
import { spawn, type ChildProcess } from 'node:child_process'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { run, sleep, waitUntil, type RunResult } from './lib/process.js'

/** Debian's client, which talks to Debian's engine; another `docker` may come first on PATH. */
export const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker'

/** PATH for the commands the test runs (run.sh included): the client above comes first. */
export const PATH = `${dirname(DOCKER) === '.' ? '' : `${dirname(DOCKER)}:`}${process.env.PATH ?? '/usr/bin:/bin'}`

let daemon: { child: ChildProcess; dir: string } | undefined

export function docker(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return run(DOCKER, args, { timeoutMs, env: { ...process.env, PATH } })
}

async function onPath(cmd: string): Promise<boolean> {
  return (
    (await run('bash', ['-c', `command -v ${cmd}`], { timeoutMs: 30_000, env: { ...process.env, PATH } })).code === 0
  )
}

/** docker, Compose and debootstrap (for ./run.sh --offline): says what is missing. */
export async function checkTools(): Promise<string> {
  const missing: string[] = []
  if (!(await onPath('docker'))) missing.push('docker (Debian: docker.io)')
  const composeV2 = await docker(['compose', 'version', '--short'], 20_000)
  if (composeV2.code !== 0 && !(await onPath('docker-compose'))) missing.push('Docker Compose (Debian: docker-compose)')
  if (!(await onPath('debootstrap')) && !existsSync('/usr/sbin/debootstrap')) missing.push('debootstrap')
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: install them (.ci/run shows how)`)
  const client = (await docker(['version', '--format', '{{.Client.Version}}'], 20_000)).stdout.trim()
  return `docker client ${client}, compose ${composeV2.stdout.trim() || 'docker-compose'}`
}

/** The engine's version, or '' when none answers (Docker 26 exits 0 then: read the output). */
async function serverVersion(timeoutMs: number): Promise<string> {
  return (await docker(['info', '--format', '{{.ServerVersion}}'], timeoutMs)).stdout.trim()
}

export async function ensureEngine(): Promise<string> {
  const running = await serverVersion(20_000)
  if (running !== '') return `using the running engine ${running}`
  if (process.getuid?.() !== 0) throw new Error('no Docker engine answers, and starting one needs root')
  const dir = mkdtempSync(join(tmpdir(), 'wdc-dockerd-'))
  const log = join(dir, 'dockerd.log')
  const fd = openSync(log, 'a')
  const dockerd = existsSync('/usr/sbin/dockerd') ? '/usr/sbin/dockerd' : 'dockerd'
  const args = ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'pid')]
  const child = spawn(dockerd, args, { detached: true, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  child.unref()
  daemon = { child, dir }
  const version = await waitUntil('dockerd answering', 60_000, async () => {
    if (child.exitCode !== null)
      throw new Error(`dockerd exited with ${child.exitCode}: ${readFileSync(log, 'utf8').slice(-800)}`)
    const v = await serverVersion(5000)
    return v === '' ? undefined : v
  })
  return `started dockerd ${version} (pid ${child.pid}) on an empty data folder`
}

/** Stops the engine this test started, if it did, and deletes its data folder. */
export async function stopEngine(log: (msg: string) => void): Promise<void> {
  if (daemon === undefined) return
  const { child, dir } = daemon
  daemon = undefined
  if (child.exitCode === null && child.pid !== undefined) {
    log(`stopping the dockerd this test started (pid ${child.pid})`)
    child.kill('SIGTERM')
    const deadline = Date.now() + 30_000
    while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(250)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  rmSync(dir, { recursive: true, force: true })
}
