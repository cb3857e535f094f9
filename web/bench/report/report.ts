// What a run leaves behind: its options, the machine it ran on, the results and the visit checks.
import { readFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { Options } from '../options.js'
import type { Databases } from '../processes/databases.js'
import type { VisitCheck } from '../scenarios/visits.js'
import type { Measured } from './summary.js'

export interface Report {
  date: string
  options: {
    connections: number
    durationS: number
    warmupS: number
    rows: number
    interleave: boolean
    rounds: number
    replicas: number
  }
  machine: Record<string, string>
  results: Measured[]
  visitChecks: VisitCheck[]
  peakRssMb: number
  idleRssMb: number
}

export interface RunFacts {
  options: Options
  results: Measured[]
  visitChecks: VisitCheck[]
  peakRssMb: number
  idleRssMb: number
  /** The load average when the run began: how busy the shared machine was. */
  startLoad: number[]
  nodeArgs: string[]
  databases: Databases
}

export async function buildReport(facts: RunFacts): Promise<Report> {
  const { options, databases } = facts
  const [dbSize] = await databases.pg.query<{ size: string }>(
    "SELECT pg_size_pretty(pg_total_relation_size('visits')) AS size"
  )
  return {
    date: new Date().toISOString(),
    options: {
      connections: options.connections,
      durationS: options.durationS,
      warmupS: options.warmupS,
      rows: options.rows,
      interleave: options.interleave,
      rounds: options.rounds,
      replicas: options.replicas
    },
    machine: {
      cpu: `${cpus()[0]?.model ?? '?'} x ${cpus().length}`,
      memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
      kernel: release(),
      node: process.version,
      postgresql: `${databases.postgresVersion} (fsync on, synchronous_commit on)`,
      redis: databases.redisVersion,
      'load average at start': facts.startLoad.map((n) => n.toFixed(2)).join(' '),
      'visits table at end': dbSize?.size ?? '?',
      'service replicas':
        options.replicas === 1
          ? '1'
          : `${options.replicas}, on ${options.replicas} ports, one load generator instance each, ${options.connections} connections split between them`,
      'service node flags': facts.nodeArgs.join(' ') || '(none)',
      'load generator': `autocannon ${autocannonVersion()} in a separate Node process on the same machine`
    },
    results: facts.results,
    visitChecks: facts.visitChecks,
    peakRssMb: Math.round(facts.peakRssMb),
    idleRssMb: Math.round(facts.idleRssMb)
  }
}

function autocannonVersion(): string {
  try {
    const file = fileURLToPath(import.meta.resolve('autocannon/package.json'))
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
  } catch {
    return '?'
  }
}
