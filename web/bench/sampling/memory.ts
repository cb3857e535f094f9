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

/** Samples a process's resident memory every 100 ms until stopped; returns the peak. */
export function sampleRss(pid: number): () => number {
  let peak = rssMb(pid) ?? 0
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid) ?? 0)
  }, 100)
  return () => {
    clearInterval(timer)
    return Math.max(peak, rssMb(pid) ?? 0)
  }
}
