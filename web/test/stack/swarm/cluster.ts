// The Swarm stack under test, seen through the docker client: its services, tasks, containers,
// and the PostgreSQL counters the visits must match.
import { docker } from '../engine.js'
import { PROJECT } from '../stack.js'
import { must, waitUntil } from '../lib/process.js'
import { get, isRecord } from '../lib/json.js'
import { hostsSeen, visitsExact as exactVisits, type VisitCounts } from '../traffic.js'

/** The stack's name: ./run.sh --swarm names it after COMPOSE_PROJECT_NAME. */
export const STACK = PROJECT
export const STACK_LABEL = `label=com.docker.stack.namespace=${STACK}`
export const WEB = `${STACK}_web`
export const REPLICAS = 3
/** The node label db and cache are placed by (deploy/swarm.yaml). */
export const DATA_LABEL = 'web-db-cache.data'

/** The docker client for one engine: the default one, or a second node's socket. */
export type Docker = (args: string[], timeoutMs?: number) => ReturnType<typeof docker>

export const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '')

export async function swarmState(on: Docker = docker): Promise<string> {
  return (await on(['info', '--format', '{{.Swarm.LocalNodeState}}'], 20_000)).stdout.trim()
}

/** "name=running/desired" for every service of the stack. */
export async function services(): Promise<Map<string, string>> {
  const r = await must(
    'docker service ls',
    docker(['service', 'ls', '--filter', STACK_LABEL, '--format', '{{.Name}} {{.Replicas}}'])
  )
  const out = new Map<string, string>()
  for (const line of lines(r.stdout)) {
    const [name = '', replicas = ''] = line.split(' ')
    out.set(name.replace(`${STACK}_`, ''), replicas)
  }
  return out
}

/** Waits until every service of the stack has all its tasks running (healthy, for those with a check). */
export async function allConverged(timeoutMs: number): Promise<string> {
  return waitUntil('every service with all its tasks running', timeoutMs, async () => {
    const all = await services()
    const done = all.size > 0 && [...all.values()].every((r) => /^(\d+)\/\1\b/.test(r))
    return done ? [...all].map(([k, v]) => `${k} ${v}`).join(', ') : undefined
  })
}

export async function inspectOne(args: string[]): Promise<Record<string, unknown>> {
  const r = await must(`docker ${args.join(' ')}`, docker(args))
  const arr = JSON.parse(r.stdout) as unknown
  if (!Array.isArray(arr) || !isRecord(arr[0])) throw new Error(`unexpected output of docker ${args.join(' ')}`)
  return arr[0]
}

export const serviceSpec = async (name: string): Promise<Record<string, unknown>> =>
  inspectOne(['service', 'inspect', `${STACK}_${name}`])

/** The running tasks of a service: task id, node id, container id (its hostname is the id's first 12). */
export async function runningTasks(service: string): Promise<Array<{ task: string; node: string; container: string }>> {
  const r = await must(
    `tasks of ${service}`,
    docker(['service', 'ps', '-q', '--filter', 'desired-state=running', `${STACK}_${service}`])
  )
  const out = []
  for (const id of lines(r.stdout)) {
    const t = await inspectOne(['inspect', '--type', 'task', id])
    if (get(t, 'Status', 'State') !== 'running') continue
    const container = get(t, 'Status', 'ContainerStatus', 'ContainerID')
    out.push({ task: id, node: String(get(t, 'NodeID')), container: typeof container === 'string' ? container : '' })
  }
  return out
}

/** Containers of a service on the engine `on`. */
export async function containersOf(service: string, on: Docker = docker): Promise<string[]> {
  const r = await must(
    `containers of ${service}`,
    on(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${STACK}_${service}`])
  )
  return lines(r.stdout)
}

export { hostsSeen }

/** Visits through the proxy are exact in PostgreSQL, read in the db task's container. */
export const visitsExact = (): Promise<string> => exactVisits(countsInPostgres, 6)

/**
 * Waits until exactly `count` replicas answer through the proxy: Swarm counts a new task healthy
 * seconds before the proxy's own checks (rise 2, every 2 s) put it in service.
 */
export async function replicasAnswering(count: number, timeoutMs = 30_000): Promise<Map<string, number>> {
  let last = new Map<string, number>()
  try {
    return await waitUntil(`${count} replicas answering through the proxy`, timeoutMs, async () => {
      last = await hostsSeen(count * 8)
      return last.size === count ? last : undefined
    })
  } catch (err) {
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}; last answering: ${[...last.keys()].join(', ')}`,
      { cause: err }
    )
  }
}

/** The homepage counter and the number of logged visits, read in the db task's container. */
export async function countsInPostgres(): Promise<VisitCounts> {
  const [db] = await containersOf('db')
  if (db === undefined) throw new Error('no db container on this engine')
  const sql =
    "SELECT coalesce((SELECT total FROM visit_counter WHERE label = 'homepage'), 0), (SELECT count(*) FROM visits WHERE label = 'homepage')"
  const r = await must(
    'psql in db',
    docker(['exec', db, 'sh', '-c', `psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAF, -c "${sql}"`], 30_000)
  )
  const [total = NaN, logged = NaN] = r.stdout.trim().split(',').map(Number)
  return { total, logged }
}

export interface UpdateOutcome {
  state: string
  seconds: number
}

/**
 * Starts `docker service update ARGS web` without waiting, then follows UpdateStatus until it
 * ends: "completed", "rollback_completed", or "paused"/"rollback_paused".
 */
export async function updateWeb(args: string[], timeoutMs: number): Promise<UpdateOutcome> {
  const started = Date.now()
  await must('docker service update', docker(['service', 'update', '--detach', '--no-resolve-image', ...args, WEB]))
  const state = await waitUntil(
    'the update to end',
    timeoutMs,
    async () => {
      const s = get(await serviceSpec('web'), 'UpdateStatus', 'State')
      return typeof s === 'string' && /^(completed|rollback_completed|paused|rollback_paused)$/.test(s) ? s : undefined
    },
    1000
  )
  return { state, seconds: (Date.now() - started) / 1000 }
}

export const webImage = async (): Promise<string> =>
  String(get(await serviceSpec('web'), 'Spec', 'TaskTemplate', 'ContainerSpec', 'Image')).replace(/@sha256:.*$/, '')
