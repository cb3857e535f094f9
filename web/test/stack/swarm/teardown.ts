// Removes everything the Swarm test made: the stack (./run.sh --swarm --down --reset: services,
// networks, volumes, secrets), the second engine and its namespace, its images, and the swarm
// itself when the test started it; then lists whatever is left.
import { docker } from '../engine.js'
import { removeCopy, stack, runScriptAllowingFailure, PROJECT, STAND_IN_PREFIX } from '../stack.js'
import { describeFailure, sleep } from '../lib/process.js'
import { STACK, STACK_LABEL, lines, swarmState } from './cluster.js'
import { removeWorker, workerLeftovers } from './worker.js'

/** Set when the engine was in no swarm before the test: it leaves the swarm at the end. */
export const owned = { swarm: false, standIns: false }

async function ids(args: string[]): Promise<string[]> {
  return lines((await docker(args, 30_000)).stdout)
}

/** Images of the test: the web builds and tags, and its own stand-ins when it built them. */
export async function testImages(): Promise<string[]> {
  const refs = [`${PROJECT}-web`, `${PROJECT}-web:*`]
  if (owned.standIns) refs.push(`${STAND_IN_PREFIX}/*`)
  const found: string[] = []
  for (const ref of refs) found.push(...(await ids(['images', '-q', '--filter', `reference=${ref}`])))
  return [...new Set(found)]
}

/** Everything of the test still in the engine, as "kind name" strings. */
export async function leftovers(): Promise<string[]> {
  const out: string[] = []
  if ((await swarmState()) === 'active') {
    for (const kind of ['service', 'secret', 'config'] as const)
      for (const id of await ids([kind, 'ls', '-q', '--filter', `name=${STACK}_`])) out.push(`${kind} ${id}`)
  }
  for (const id of await ids(['ps', '-aq', '--filter', STACK_LABEL])) out.push(`container ${id}`)
  for (const kind of ['network', 'volume'] as const)
    for (const id of await ids([kind, 'ls', '-q', '--filter', STACK_LABEL])) out.push(`${kind} ${id}`)
  for (const id of await testImages()) out.push(`image ${id}`)
  if (owned.swarm && (await swarmState()) !== 'inactive') out.push('the swarm this test started')
  if (owned.swarm && (await ids(['network', 'ls', '-q', '--filter', 'name=^docker_gwbridge$'])).length > 0)
    out.push('network docker_gwbridge')
  // Whether or not this run made one: a second engine is never the user's.
  out.push(...(await workerLeftovers()))
  return out
}

export async function teardown(log: (msg: string) => void): Promise<void> {
  if (stack.workdir !== '' && (await swarmState()) === 'active') {
    const r = await runScriptAllowingFailure(['--swarm', '--down', '--reset'], 180_000)
    if (r.code !== 0) log(describeFailure('./run.sh --swarm --down --reset', r, 10))
  }
  await removeWorker(log)
  // Volumes outlive their containers by a moment after `stack rm`.
  for (let i = 0; i < 20; i++) {
    const volumes = await ids(['volume', 'ls', '-q', '--filter', STACK_LABEL])
    const containers = await ids(['ps', '-aq', '--filter', STACK_LABEL])
    if (containers.length > 0) await docker(['rm', '-f', '-v', ...containers], 60_000)
    if (volumes.length === 0) break
    await docker(['volume', 'rm', ...volumes], 60_000)
    await sleep(1000)
  }
  const images = await testImages()
  if (images.length > 0) await docker(['rmi', '-f', ...images], 120_000)
  if (owned.swarm && (await swarmState()) !== 'inactive') {
    log('leaving the swarm this test started (docker swarm leave --force)')
    await docker(['swarm', 'leave', '--force'], 60_000)
    // The bridge that `swarm init` made for the tasks' way out.
    await docker(['network', 'rm', 'docker_gwbridge'], 30_000)
  }
  removeCopy()
}
