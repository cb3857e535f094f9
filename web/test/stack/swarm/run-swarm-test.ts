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
import { report, PhaseError } from '../lib/report.js'
import { expect } from '../lib/json.js'
import { killAll } from '../lib/process.js'
import { checkTools, ensureEngine, stopEngine } from '../engine.js'
import { copyRepository, runScript } from '../stack.js'
import { STACK, allConverged, swarmState } from './cluster.js'
import { leftovers, owned, teardown } from './teardown.js'
import { checkDeployed } from './checks/deploy.js'
import { checkKill, checkRollback, checkRollingUpdates, figures } from './checks/updates.js'
import { checkTwoHosts } from './checks/twohosts.js'
import { MANAGER_ADDR, createLink } from './worker.js'

const TOTAL_TIMEOUT_MS = Number(process.env.SWARM_TEST_TIMEOUT_S ?? 3600) * 1000
const log = (msg: string): void => report.log(msg)
const IMAGE_VARS = ['POSTGRES_IMAGE', 'REDIS_IMAGE', 'PROXY_IMAGE', 'NODE_IMAGE'] as const

async function main(): Promise<void> {
  log(`end-to-end Swarm test, stack ${STACK} (time limit ${TOTAL_TIMEOUT_MS / 1000}s)`)
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

// Called by the end of main, a signal or the time limit, whichever comes first; the others wait
// for the same clean-up instead of cutting it short.
let finishing: Promise<never> | undefined
function finish(): Promise<never> {
  finishing ??= tearDownAndExit()
  return finishing
}

async function tearDownAndExit(): Promise<never> {
  try {
    const t = Date.now()
    await teardown(log)
    report.timings.push({ name: 'clean up', ms: Date.now() - t })
    await report.check(
      'clean-up left no stack, secret, network, volume, image, swarm or second engine of the test',
      async () => {
        const left = await leftovers()
        expect(left.length === 0, `left behind: ${left.join(', ')}`)
      }
    )
    await stopEngine(log)
  } catch (err) {
    report.fail('clean-up', err)
  }
  killAll()
  if (figures.length > 0) console.log(`\nfigures:\n${figures.map((f) => `  ${f}`).join('\n')}`)
  process.exit(report.printSummary())
}

const timer = setTimeout(() => {
  report.fail('time limit', new Error(`the run took longer than ${TOTAL_TIMEOUT_MS / 1000}s`))
  killAll()
  void finish()
}, TOTAL_TIMEOUT_MS)

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    report.fail('interrupted', new Error(`received ${sig}`))
    killAll()
    void finish()
  })
}

try {
  await main()
} catch (err) {
  if (!(err instanceof PhaseError))
    report.fail('unexpected error', err instanceof Error ? (err.stack ?? err.message) : err)
}
clearTimeout(timer)
await finish()
