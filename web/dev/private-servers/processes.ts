/**
 * What the private PostgreSQL and Redis servers share: finding binaries, free ports, readiness, and
 * a last-resort cleanup so no server or data folder outlives the process that started it.
 */
import { spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const INSTALL_HINT =
  'Install them with `apt-get install -y postgresql redis-server`, or point the tests at existing binaries with ' +
  'PG_BIN_DIR=/path/to/postgresql/bin and REDIS_SERVER_BIN=/path/to/redis-server.'

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const file = join(dir, name)
    if (dir !== '' && existsSync(file)) return file
  }
  return undefined
}

/** initdb/postgres/pg_ctl: PG_BIN_DIR, then PATH, then the newest /usr/lib/postgresql/<n>/bin. */
export function postgresBinDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR
  const initdb = onPath('initdb')
  if (initdb !== undefined && onPath('postgres') !== undefined) return join(initdb, '..')
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : []
  versions.sort((a, b) => Number(b) - Number(a))
  if (versions[0] === undefined)
    throw new Error(`PostgreSQL server binaries (initdb, postgres) not found. ${INSTALL_HINT}`)
  return join(root, versions[0], 'bin')
}

export function redisServerBin(): string {
  const bin =
    process.env.REDIS_SERVER_BIN ??
    onPath('redis-server') ??
    (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined)
  if (bin === undefined) throw new Error(`redis-server not found. ${INSTALL_HINT}`)
  return bin
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))
      )
    })
  })
}

// PostgreSQL refuses to run as root; as root, run it as the unprivileged `postgres` (or `nobody`) user.
export function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  for (const user of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' })
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' })
    if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
  }
  throw new Error('Running as root and no unprivileged user (postgres or nobody) exists to run PostgreSQL as')
}

export const children = new Set<ChildProcess>()
export const tempDirs = new Set<string>()
// Last resort when a test file dies without its after() hooks: no server outlives the test run.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL')
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

export async function waitUntil(
  what: string,
  probe: () => Promise<unknown>,
  timeoutMs: number,
  child: ChildProcess,
  output: () => string
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}:\n${output()}`)
    try {
      await probe()
      return
    } catch {
      if (Date.now() > deadline) throw new Error(`${what} did not become ready in ${timeoutMs} ms:\n${output()}`)
      await sleep(50)
    }
  }
}

/** Keeps the last `limit` characters a process wrote, for the error message if it fails. */
export function capture(child: ChildProcess, limit = 4000): () => string {
  let text = ''
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-limit)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return () => text
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()))
}
