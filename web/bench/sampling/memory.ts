// The service's resident memory, read from /proc.
import { readFileSync } from 'node:fs'

export function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match?.[1] === undefined ? undefined : Number(match[1]) / 1024
  } catch {
    return undefined
  }
}

/**
 * Samples the resident memory of each process every 100 ms until stopped; returns the largest
 * peak of any one of them (the replicas are alike, so their peak is per replica, not a total).
 */
export function sampleRss(pids: number[]): () => number {
  const largest = (): number => Math.max(0, ...pids.map((pid) => rssMb(pid) ?? 0))
  let peak = largest()
  const timer = setInterval(() => {
    peak = Math.max(peak, largest())
  }, 100)
  return () => {
    clearInterval(timer)
    return Math.max(peak, largest())
  }
}
