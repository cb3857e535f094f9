// ./run.sh --update: two replicas replaced one at a time behind the proxy while visits and reads
// keep coming, without one failed request, every acknowledged visit counted once; then a new image
// that never becomes healthy: the update stops with a clear message and a non-zero exit, the old
// replicas keep answering and the image tag goes back to theirs.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { report } from '../lib/report.js'
import { expect } from '../lib/json.js'
import { must, waitUntil, type RunResult } from '../lib/process.js'
import { docker } from '../engine.js'
import { compose, PROJECT_LABEL, runScriptAllowingFailure, stack, STAND_IN_IMAGES } from '../stack.js'
import { countsInPostgres, describe, hostsSeen, load, type Load } from '../traffic.js'

const REPLICAS = 2

async function webContainers(): Promise<string[]> {
  const r = await must(
    'web containers',
    docker(['ps', '-q', '--no-trunc', '--filter', PROJECT_LABEL, '--filter', 'label=com.docker.compose.service=web'])
  )
  return r.stdout.split('\n').filter(Boolean).sort()
}

/** The image id a container runs, or an image name stands for. */
async function imageOf(kind: 'container' | 'image', ref: string): Promise<string> {
  const format = kind === 'container' ? '{{.Image}}' : '{{.Id}}'
  return (await must(`image of ${ref}`, docker([kind, 'inspect', '-f', format, ref]))).stdout.trim()
}

/** Every replica answering through the proxy, by hostname (a container id's first 12 characters). */
async function answering(): Promise<string[]> {
  return [...(await hostsSeen(REPLICAS * 6)).keys()].sort()
}

/** ./run.sh --update under load: visits (GET /) and reads (GET /visits) until it returns. */
async function updateUnderLoad(): Promise<{ run: RunResult; visits: Load; reads: Load; counted: number }> {
  const before = await countsInPostgres()
  let stop = false
  const visits = load('/', 2, () => stop, 5000)
  const reads = load('/visits', 2, () => stop, 5000)
  const run = await runScriptAllowingFailure(['--offline', '--update'], 600_000).finally(() => {
    stop = true
  })
  const [v, r] = await Promise.all([visits, reads])
  const after = await countsInPostgres()
  expect(after.total - before.total === after.logged - before.logged, 'counter and log disagree')
  return { run, visits: v, reads: r, counted: after.total - before.total }
}

const output = (r: RunResult): string => `${r.stdout}\n${r.stderr}`.trim()

export async function checkUpdate(): Promise<void> {
  await report.phase(`compose up -d --scale web=${REPLICAS}`, async () => {
    await must(
      'compose up --scale',
      compose(['up', '-d', '--no-build', '--scale', `web=${REPLICAS}`], 180_000, STAND_IN_IMAGES)
    )
    await waitUntil(`${REPLICAS} replicas answering through the proxy`, 90_000, async () =>
      (await answering()).length === REPLICAS ? true : undefined
    )
  })

  await report.check(
    `./run.sh --update replaces ${REPLICAS} replicas under load without a failed request`,
    async () => {
      const old = await webContainers()
      const u = await updateUnderLoad()
      expect(u.run.code === 0, `exit ${u.run.code}:\n${output(u.run).slice(-1500)}`)
      expect(
        u.visits.failed === 0 && u.reads.failed === 0,
        `GET /: ${describe(u.visits)}; GET /visits: ${describe(u.reads)}`
      )
      expect(u.counted === u.visits.ok, `acknowledged ${u.visits.ok} visits, counted ${u.counted}`)
      const now = await webContainers()
      expect(now.length === REPLICAS, `${now.length} web containers after the update`)
      expect(!now.some((id) => old.includes(id)), 'an old replica is still running')
      const hosts = await waitUntil('every new replica answering', 60_000, async () => {
        const seen = await answering()
        return seen.length === REPLICAS ? seen : undefined
      })
      expect(
        hosts.every((h) => now.some((id) => id.startsWith(h))),
        `answering ${hosts.join(', ')}, running ${now.join(', ')}`
      )
      return `${(u.run.ms / 1000).toFixed(1)}s; GET / ${describe(u.visits)}, ${u.counted} counted; GET /visits ${describe(u.reads)}`
    }
  )

  await report.check('a new image that never becomes healthy: refused, the old replicas keep serving', async () => {
    const old = await webContainers()
    const tagged = await imageOf('container', old[0] ?? '')
    // The broken version: the service's process exits at once (the last CMD wins).
    const dockerfile = join(stack.workdir, 'web', 'Dockerfile')
    const original = readFileSync(dockerfile, 'utf8')
    appendFileSync(dockerfile, '\nCMD ["node", "-e", "console.error(\'broken on purpose\'); process.exit(3)"]\n')
    let u: Awaited<ReturnType<typeof updateUnderLoad>>
    try {
      u = await updateUnderLoad()
    } finally {
      writeFileSync(dockerfile, original)
    }
    const said = output(u.run)
    expect(u.run.code === 1, `exit ${u.run.code}, expected 1:\n${said.slice(-1500)}`)
    expect(/FAILED: the new web replica/.test(said) && /keep serving/.test(said), `no clear message:\n${said}`)
    expect(/broken on purpose/.test(said), `its log lines are not shown:\n${said}`)
    expect(
      u.visits.failed === 0 && u.reads.failed === 0,
      `GET /: ${describe(u.visits)}; GET /visits: ${describe(u.reads)}`
    )
    expect(u.counted === u.visits.ok, `acknowledged ${u.visits.ok} visits, counted ${u.counted}`)
    const now = await webContainers()
    expect(JSON.stringify(now) === JSON.stringify(old), `replicas before ${old.join(', ')}, after ${now.join(', ')}`)
    const hosts = await answering()
    expect(hosts.length === REPLICAS, `answering after the failed update: ${hosts.join(', ')}`)
    const image = (
      await must('compose config --images', compose(['config', '--images'], 30_000, STAND_IN_IMAGES))
    ).stdout
      .split('\n')
      .find((line) => line.endsWith('-web') || line.endsWith('_web'))
    expect(
      image !== undefined && (await imageOf('image', image)) === tagged,
      'the web image tag does not name the running image'
    )
    const first = said.split('\n').find((line) => line.includes('FAILED')) ?? ''
    return `${(u.run.ms / 1000).toFixed(1)}s, exit 1 ("${first.trim()}"); GET / ${describe(u.visits)}; GET /visits ${describe(u.reads)}`
  })
}
