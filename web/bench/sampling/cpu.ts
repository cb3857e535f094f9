// Where the machine's cores go during a run: the server under test, Redis, PostgreSQL and the load generator.
import { readFileSync, readdirSync } from 'node:fs'

/** Cores in use during a run (CPU seconds per second), by process; `server` summed over its replicas. */
export interface CpuUse {
  server: number
  redis: number
  postgres: number
  load: number
}

export interface CpuSources {
  /** Every process of the server under test: the service's replicas count together. */
  server: number[]
  redis: number[]
  /** Asked at both ends of the run: PostgreSQL starts backends as connections come. */
  postgres: () => number[]
}

const TICKS_PER_S = 100 // USER_HZ on Linux

/** The server's CPU time per request in µs, from its cores in use and its throughput; null without requests. */
export function usPerRequest(serverCores: number, requestsPerS: number): number | null {
  return requestsPerS === 0 ? null : Math.round((serverCores / requestsPerS) * 1e6)
}

/** CPU time (user + system) of each of these processes so far, in seconds; gone ones are left out. */
function cpuByPid(pids: number[]): Map<number, number> {
  const times = new Map<number, number>()
  for (const pid of new Set(pids)) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      times.set(pid, (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S)
    } catch {
      // the process has gone
    }
  }
  return times
}

/**
 * CPU seconds used between two snapshots: processes alive at both count their difference, those
 * started in between count whole; those that ended in between are lost (an underestimate).
 */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0
  for (const [pid, now] of after) seconds += Math.max(0, now - (before.get(pid) ?? 0))
  return seconds
}

/** Processes whose parent is `ppid` (PostgreSQL's backends), or whose command line contains `needle`. */
function findPids(match: { ppid?: number; needle?: string }): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (match.ppid !== undefined) {
        const status = readFileSync(`/proc/${entry}/status`, 'utf8')
        if (new RegExp(`^PPid:\\s+${match.ppid}$`, 'm').test(status)) pids.push(Number(entry))
      } else if (match.needle !== undefined) {
        if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(match.needle))
          pids.push(Number(entry))
      }
    } catch {
      // gone
    }
  }
  return pids
}

/** The postmaster and all its backends. */
export function postgresPids(pg: { pid: number | undefined }): number[] {
  return pg.pid === undefined ? [] : [pg.pid, ...findPids({ ppid: pg.pid })]
}

/** Redis rewrites its process title to `redis-server <address>:<port>`. */
export function redisPids(port: number): number[] {
  return findPids({ needle: `redis-server 127.0.0.1:${port}` })
}

/**
 * Takes the first snapshot now; the returned function takes the second and gives each process's
 * cores over the time between, with the load generator's own count of its CPU time.
 */
export function startCpuMeter(sources: CpuSources): (load: { cpuS: number; durationS: number }) => CpuUse {
  const before = {
    server: cpuByPid(sources.server),
    redis: cpuByPid(sources.redis),
    postgres: cpuByPid(sources.postgres())
  }
  const started = performance.now()
  return (load) => {
    const wallS = (performance.now() - started) / 1000
    const cores = (before: Map<number, number>, after: Map<number, number>): number =>
      Math.round((cpuBetween(before, after) / wallS) * 100) / 100
    return {
      server: cores(before.server, cpuByPid(sources.server)),
      redis: cores(before.redis, cpuByPid(sources.redis)),
      postgres: cores(before.postgres, cpuByPid(sources.postgres())),
      load: Math.round((load.cpuS / load.durationS) * 100) / 100
    }
  }
}
