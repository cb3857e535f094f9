/** A private PostgreSQL server: its own data folder and port; tests may stop, crash and restart it. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import {
  postgresBinDir,
  freePort,
  unprivilegedIds,
  children,
  tempDirs,
  waitUntil,
  capture,
  exited
} from './processes.js'

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
