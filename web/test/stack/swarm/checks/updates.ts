// Changes under a bounded load through the proxy: rolling updates (forced, and to a new image tag)
// fail no request and lose or double no visit; an image whose health check fails is rolled back
// by Swarm while the service keeps answering; a killed replica costs at most the requests it held.
import { report } from '../../lib/report.js'
import { expect } from '../../lib/json.js'
import { must, run, sleep } from '../../lib/process.js'
import { load, describeLoad, type Load } from '../../lib/load.js'
import { docker, DOCKER, PATH } from '../../engine.js'
import {
  REPLICAS,
  STACK,
  allConverged,
  containersOf,
  countsInPostgres,
  replicasAnswering,
  runningTasks,
  updateWeb,
  webImage,
  type UpdateOutcome
} from '../cluster.js'

const env = { ...process.env, PATH }

/** Figures for the summary: requests sent and failed, update and rollback times. */
export const figures: string[] = []

/** Tags the test makes, removed at the end. */
export const NEXT_TAG = `${STACK}-web:next`
export const BROKEN_TAG = `${STACK}-web:broken`

interface Under {
  reads: Load
  writes: Load
  counted: number
  logged: number
}

/**
 * Runs `change` while 3 workers read /visits and 2 count visits (each pausing 10 ms between
 * requests: a few hundred a second at most), until it ends and 2 s after.
 */
export async function underLoad<T>(change: () => Promise<T>): Promise<{ value: T; load: Under }> {
  const before = await countsInPostgres()
  let stopping = false
  const reads = load('/visits', 3, () => stopping, 10_000, 10)
  const writes = load('/', 2, () => stopping, 10_000, 10)
  await sleep(1000)
  try {
    const value = await change()
    await sleep(2000)
    stopping = true
    const [r, w] = await Promise.all([reads, writes])
    const after = await countsInPostgres()
    return {
      value,
      load: { reads: r, writes: w, counted: after.total - before.total, logged: after.logged - before.logged }
    }
  } finally {
    stopping = true
  }
}

/**
 * The update ended as `want`, no request failed, and PostgreSQL holds exactly the visits that
 * were acknowledged. The figures are recorded whatever the outcome.
 */
export function expectNoLoss(what: string, u: Under, outcome: UpdateOutcome, want: string): string {
  const summary = `${outcome.state} in ${outcome.seconds.toFixed(1)}s; GET /visits ${describeLoad(u.reads)}; GET / ${describeLoad(u.writes)}; counted ${u.counted}`
  figures.push(`${what}: ${summary}`)
  expect(outcome.state === want, `the update ended ${outcome.state}, not ${want}: ${summary}`)
  expect(u.reads.failed === 0 && u.writes.failed === 0, summary)
  expect(u.counted === u.writes.ok && u.logged === u.writes.ok, `acknowledged ${u.writes.ok}, ${summary}`)
  return summary
}

export async function checkRollingUpdates(): Promise<void> {
  await report.check(
    'rolling update (service update --force) under load: no failed request, visits exact',
    async () => {
      const { value, load: u } = await underLoad(() => updateWeb(['--force'], 900_000))
      return expectNoLoss('update --force', u, value, 'completed')
    }
  )

  await report.check('rolling update to a new image tag under load: no failed request, visits exact', async () => {
    const current = await webImage()
    await must('docker tag', docker(['tag', current, NEXT_TAG]))
    const { value, load: u } = await underLoad(() => updateWeb(['--image', NEXT_TAG], 900_000))
    const summary = expectNoLoss(`update to ${NEXT_TAG}`, u, value, 'completed')
    expect((await webImage()) === NEXT_TAG, `web runs ${await webImage()}`)
    for (const id of await containersOf('web')) {
      const image = (await docker(['inspect', '-f', '{{.Config.Image}}', id])).stdout.trim()
      expect(image.startsWith(NEXT_TAG), `container ${id} runs ${image}`)
    }
    return summary
  })
}

export async function checkRollback(): Promise<void> {
  await report.check(
    'an image whose health check fails is rolled back by itself; the service keeps answering',
    async () => {
      const good = await webImage()
      // The same image, but its process never listens: the health check never passes.
      const dockerfile = `FROM ${good}\nCMD ["node", "-e", "setInterval(() => {}, 1 << 30)"]\n`
      const build = run(DOCKER, ['build', '-q', '-t', BROKEN_TAG, '-'], { input: dockerfile, timeoutMs: 120_000, env })
      await must('docker build (broken image)', build)
      const { value, load: u } = await underLoad(() => updateWeb(['--image', BROKEN_TAG], 900_000))
      const summary = expectNoLoss('broken image, rolled back', u, value, 'rollback_completed')
      expect((await webImage()) === good, `web runs ${await webImage()} after the rollback`)
      await allConverged(60_000)
      return summary
    }
  )
}

export async function checkKill(): Promise<void> {
  await report.check('killing one web container under load: failures counted, no visit lost or doubled', async () => {
    const [victim] = await containersOf('web')
    expect(victim !== undefined, 'no web container on this engine')
    const { load: u } = await underLoad(async () => {
      await must('docker kill', docker(['kill', victim], 30_000))
      await sleep(6000)
    })
    const w = u.writes
    const summary = `GET /visits ${describeLoad(u.reads)}; GET / ${describeLoad(w)}; counted ${u.counted}`
    figures.push(`kill one replica: ${summary}`)
    // A visit whose replica died before answering may or may not have been counted, never twice.
    expect(u.counted >= w.ok && u.counted <= w.ok + w.failed, `acknowledged ${w.ok}, ${summary}`)
    expect(u.counted === u.logged, `counter +${u.counted}, log +${u.logged}`)
    const replaced = await allConverged(120_000)
    const tasks = await runningTasks('web')
    expect(tasks.length === REPLICAS, `${tasks.length} web tasks after the kill`)
    await replicasAnswering(REPLICAS)
    return `${summary}; Swarm replaced it (${replaced})`
  })
}
