// End-to-end test of the stack on Docker Swarm, in a real engine: ./run.sh --swarm, unmodified, in a
// copy of the repository, then rolling updates, a rollback and a killed replica under load; then
// two hosts: a second engine in a network namespace of its own joins as a worker (worker.ts).
//
//   npm run test:swarm        (from web/ or the repository root; needs root, or docker access)
//
// Needs what `npm run test:stack` needs. The engine may be in no swarm (the test makes it a
// manager, through run.sh, and leaves the swarm at the end) or a manager already (the swarm is
// kept). Images: POSTGRES_IMAGE, REDIS_IMAGE, PROXY_IMAGE and NODE_IMAGE, when all four are set,
// are used as they are (and kept); otherwise ./run.sh --offline builds stand-ins of the test's own,
// removed at the end. Everything else the test made is removed too, and it checks that nothing is
// left. SWARM_TEST_TIMEOUT_S (default 3600) bounds the whole run. The two-host part needs root
// (ip netns, a second dockerd) and a swarm the test starts itself, advertised on the link to the
// worker; without them it is skipped, and says so.
import './project.js'
import { report } from '../lib/report.js'
import { expect } from '../lib/json.js'
import { runEndToEnd } from '../lib/runner.js'
import { checkTools, ensureEngine } from '../engine.js'
import { copyRepository, runScript } from '../stack.js'
import { STACK, allConverged, swarmState } from './cluster.js'
import { leftovers, owned, teardown } from './teardown.js'
import { checkDeployed } from './checks/deploy.js'
import { checkKill, checkRollback, checkRollingUpdates, figures } from './checks/updates.js'
import { checkTwoHosts } from './checks/twohosts.js'
import { MANAGER_ADDR, createLink } from './worker.js'

const log = (msg: string): void => report.log(msg)
const IMAGE_VARS = ['POSTGRES_IMAGE', 'REDIS_IMAGE', 'PROXY_IMAGE', 'NODE_IMAGE'] as const

async function main(): Promise<void> {
  log(`  ${await report.phase('tools (docker, compose, debootstrap)', checkTools)}`)
  log(`  ${await report.phase('Docker engine', ensureEngine)}`)
  const state = await swarmState()
  expect(state === 'inactive' || state === 'active', `the engine's swarm state is ${state}`)
  owned.swarm = state === 'inactive'
  owned.standIns = !IMAGE_VARS.every((v) => (process.env[v] ?? '') !== '')
  log(`  swarm: ${state}${owned.swarm ? ' (the test starts one and leaves it at the end)' : ' (kept)'}`)
  await report.phase('a clean engine: nothing of an earlier run', async () => {
    await teardown(log)
    const left = await leftovers()
    expect(left.length === 0, `left from an earlier run: ${left.join(', ')}`)
  })
  log(`  ${await report.phase('copy of the repository', copyRepository)}`)
  const twoHosts = owned.swarm && process.getuid?.() === 0
  if (twoHosts) {
    log(`  ${await report.phase('a link to a second host (network namespace, veth pair)', createLink)}`)
    // run.sh's own way to choose the address other nodes reach the manager on (docs/swarm.md).
    process.env.SWARM_ADVERTISE_ADDR = MANAGER_ADDR
  } else log(`  two hosts: skipped (${owned.swarm ? 'needs root' : "the swarm is not the test's own"})`)

  const args = owned.standIns ? ['--swarm', '--offline'] : ['--swarm']
  await report.phase(`./run.sh ${args.join(' ')} (swarm, secrets, build, deploy, healthy)`, () =>
    runScript(args, 1_200_000)
  )
  await checkDeployed()
  await checkRollingUpdates()
  await checkRollback()
  await checkKill()
  await report.check('./run.sh --swarm again: rolls its own build out over the running stack, healthy', async () => {
    // The same options as the first deploy: without --offline, run.sh would ask for the official images.
    const r = await runScript(args, 600_000)
    expect(/up and healthy/.test(r.stdout), 'run.sh did not report the stack healthy')
    return await allConverged(10_000)
  })
  if (twoHosts) await checkTwoHosts()
}

await runEndToEnd({
  title: `end-to-end Swarm test, stack ${STACK}`,
  timeLimitMs: Number(process.env.SWARM_TEST_TIMEOUT_S ?? 3600) * 1000,
  steps: main,
  teardown,
  leftovers,
  leftoversCheck: 'clean-up left no stack, secret, network, volume, image, swarm or second engine of the test',
  figures
})
