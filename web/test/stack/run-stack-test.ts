// End-to-end test of the compose stack in a real Docker engine, as a newcomer would meet it.
//
//   npm run test:stack        (from web/ or the repository root; needs root, or docker access)
//
// Needs docker, Docker Compose and debootstrap (.ci/run installs them). It runs ./run.sh,
// unmodified, in a copy of the repository, under its own Compose project name, stand-in image
// names and a free host port; starts from an engine holding none of its images (./run.sh --offline
// builds them all, as on a machine that cannot pull); and removes everything it made at the end.
// STACK_TEST_STAND_IN_PREFIX names stand-ins already built (offline/stand-ins.sh with that
// STAND_IN_PREFIX, on a shared engine say): the test uses them and leaves them in place.
// It prints timings and ends with "N passed, M failed"; the exit code is non-zero on any failure.
// STACK_TEST_TIMEOUT_S (default 2400) bounds the whole run: the restore drill and the updates take
// ten minutes or so of it on a busy machine.
import { report } from './lib/report.js'
import { expect } from './lib/json.js'
import { runEndToEnd } from './lib/runner.js'
import { checkTools, ensureEngine } from './engine.js'
import { copyRepository, runScript } from './stack.js'
import { startEventRecorder, stopEventRecorder } from './events.js'
import { cleanup, leftovers, noteAnonymousVolumes, testImages } from './cleanup.js'
import { checkFailures } from './checks/failures.js'
import { checkFirstStart } from './checks/first-start.js'
import { checkRoutes } from './checks/routes.js'
import { checkIsolation } from './checks/isolation.js'
import { checkHardening } from './checks/hardening.js'
import { checkRedisAndLimits } from './checks/redis-and-limits.js'
import { checkPersistence } from './checks/persistence.js'
import { checkCacheOutage, checkStopWeb } from './checks/outage.js'
import { checkScale } from './checks/scale.js'
import { checkRestore } from './checks/restore.js'
import { checkUpdate } from './checks/update.js'

const log = (msg: string): void => report.log(msg)

async function main(): Promise<void> {
  log(`  ${await report.phase('tools (docker, compose, debootstrap)', checkTools)}`)
  log(`  ${await report.phase('Docker engine', ensureEngine)}`)
  await report.phase('a clean engine: nothing of an earlier run', async () => {
    await cleanup(log)
    expect((await testImages()).length === 0, 'images of an earlier run are still there')
    await noteAnonymousVolumes()
  })
  log(`  ${await report.phase('copy of the repository', copyRepository)}`)

  await checkFailures()

  await startEventRecorder()
  const first = await report.phase('./run.sh --offline from a clean engine (stand-ins, build, up, healthy)', () =>
    runScript(['--offline'], 900_000)
  )
  await checkFirstStart(first)
  await checkRoutes()
  await report.check('db and cache are not reachable from the host', checkIsolation)
  await report.check('web runs as non-root with a read-only root filesystem, node as the process', checkHardening)
  await report.check('Redis requires a password and persists (AOF); limits, log rotation, restart policy', () =>
    checkRedisAndLimits()
  )
  await checkPersistence()
  await checkCacheOutage()
  await report.check('compose stop web takes under 10 s (signals reach node)', checkStopWeb)
  await checkScale()
  await checkRestore()
  await checkUpdate()
}

await runEndToEnd({
  title: 'end-to-end stack test',
  timeLimitMs: Number(process.env.STACK_TEST_TIMEOUT_S ?? 2400) * 1000,
  steps: main,
  beforeTeardown: stopEventRecorder,
  teardown: cleanup,
  leftovers,
  leftoversCheck: 'clean-up left no container, network, volume or image of the test'
})
