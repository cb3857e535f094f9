/**
 * Private PostgreSQL and Redis servers for tests: temporary data folders, free ports, started and
 * stopped here only. Tests may kill, pause and restart them to inject faults; nothing else is touched.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { Redis } from 'ioredis'

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
function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  for (const user of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' })
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' })
    if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
  }
  throw new Error('Running as root and no unprivileged user (postgres or nobody) exists to run PostgreSQL as')
}

const children = new Set<ChildProcess>()
const tempDirs = new Set<string>()
// Last resort when a test file dies without its after() hooks: no server outlives the test run.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL')
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

async function waitUntil(
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

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()))
}

export interface PgOptions {
  /** Keep fsync on (benchmarks); tests turn it off for speed, which changes nothing they assert. */
  durable?: boolean
}

export class PgServer {
  readonly user = 'postgres'
  readonly database = 'postgres'
  private child: ChildProcess | undefined

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly ids: { uid: number; gid: number } | undefined,
    private readonly options: PgOptions
  ) {}

  static async start(options: PgOptions = {}): Promise<PgServer> {
    const bin = postgresBinDir()
    const ids = unprivilegedIds()
    const dir = mkdtempSync(join(tmpdir(), 'wdc-pg-'))
    tempDirs.add(dir)
    if (ids) chownSync(dir, ids.uid, ids.gid)
    const init = spawnSync(
      join(bin, 'initdb'),
      ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C'],
      {
        encoding: 'utf8',
        ...(ids ?? {})
      }
    )
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout || init.error?.message}`)
    const server = new PgServer(dir, await freePort(), bin, ids, options)
    await server.start()
    return server
  }

  get url(): string {
    return `postgresql://${this.user}@127.0.0.1:${this.port}/${this.database}`
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  async start(): Promise<void> {
    const durability = this.options.durable ? [] : ['-c', 'fsync=off', '-c', 'full_page_writes=off']
    const child = spawn(
      join(this.bin, 'postgres'),
      [
        '-D',
        join(this.dir, 'data'),
        '-p',
        String(this.port),
        '-k',
        this.dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'max_connections=200',
        ...durability
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], ...(this.ids ?? {}) }
    )
    children.add(child)
    child.once('exit', () => children.delete(child))
    this.child = child
    const output = capture(child)
    await waitUntil('PostgreSQL', () => this.query('SELECT 1'), 30_000, child, output)
  }

  /** Fast shutdown: clients are disconnected, nothing is lost. */
  async stop(): Promise<void> {
    const child = this.child
    if (!child) return
    child.kill('SIGINT')
    await exited(child)
    this.child = undefined
  }

  /** Crash-like stop: the postmaster and its backends are killed at once. */
  async kill(): Promise<void> {
    const child = this.child
    if (!child) return
    child.kill('SIGQUIT')
    await exited(child)
    this.child = undefined
  }

  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }

  pause(): void {
    this.child?.kill('SIGSTOP')
  }

  resume(): void {
    this.child?.kill('SIGCONT')
  }

  async query<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 2000 })
    client.on('error', () => undefined)
    await client.connect()
    try {
      return (await client.query<T>(text, params)).rows
    } finally {
      await client.end()
    }
  }

  async destroy(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
    tempDirs.delete(this.dir)
  }
}

export class RedisServer {
  private child: ChildProcess | undefined

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly password: string
  ) {}

  static async start(password = 'test-redis-password'): Promise<RedisServer> {
    const dir = mkdtempSync(join(tmpdir(), 'wdc-redis-'))
    tempDirs.add(dir)
    const server = new RedisServer(dir, await freePort(), password)
    await server.start()
    return server
  }

  get url(): string {
    return `redis://:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/0`
  }

  async start(): Promise<void> {
    const child = spawn(
      redisServerBin(),
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--requirepass',
        this.password,
        '--daemonize',
        'no'
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] }
    )
    children.add(child)
    child.once('exit', () => children.delete(child))
    this.child = child
    const output = capture(child)
    await waitUntil('Redis', () => this.command((r) => r.ping()), 15_000, child, output)
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child) return
    child.kill('SIGKILL')
    await exited(child)
    this.child = undefined
  }

  pause(): void {
    this.child?.kill('SIGSTOP')
  }

  resume(): void {
    this.child?.kill('SIGCONT')
  }

  /** Runs one thing on a short-lived connection of its own. */
  async command<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({
      port: this.port,
      host: '127.0.0.1',
      password: this.password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null
    })
    redis.on('error', () => undefined)
    try {
      await redis.connect()
      return await work(redis)
    } finally {
      redis.disconnect()
    }
  }

  async destroy(): Promise<void> {
    this.resume()
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
    tempDirs.delete(this.dir)
  }
}

/** The environment the service reads, pointed at private servers. */
export function serviceEnv(
  pgServer: PgServer,
  redisServer: RedisServer,
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    DATABASE_URL: pgServer.url,
    REDIS_URL: redisServer.url,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    STARTUP_TIMEOUT_S: '10',
    ...extra
  }
}
