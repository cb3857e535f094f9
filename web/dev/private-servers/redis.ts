/** A private Redis server with a password: its own folder and port; tests may kill, pause and restart it. */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { redisServerBin, freePort, children, tempDirs, waitUntil, capture, exited } from './processes.js'

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
