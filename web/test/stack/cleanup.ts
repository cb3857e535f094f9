// Removes everything the test made in the engine (containers, networks, volumes, the web image,
// the stand-in images) and the copy of the repository, then checks that nothing is left.
import { docker } from './engine.js'
import { compose, removeCopy, stack, PROJECT, PROJECT_LABEL, SHARED_STAND_INS, STAND_IN_PREFIX } from './stack.js'
import { describeFailure } from './lib/process.js'

async function ids(args: string[]): Promise<string[]> {
  return (await docker(args, 30_000)).stdout.split('\n').filter(Boolean)
}

/** Images of the test: its stand-ins (and their base) unless shared, and the web image Compose built. */
export async function testImages(): Promise<string[]> {
  const found = [
    ...(SHARED_STAND_INS ? [] : await ids(['images', '-q', '--filter', `reference=${STAND_IN_PREFIX}/*`])),
    ...(await ids(['images', '-q', '--filter', `reference=${PROJECT}-web`])),
    ...(await ids(['images', '-q', '--filter', `reference=${PROJECT}_web`]))
  ]
  return [...new Set(found)]
}

const ANONYMOUS = 'label=com.docker.volume.anonymous'
/** Anonymous volumes that were there before the test: not the test's, never removed by it. */
let anonymousBefore: Set<string> | undefined

/** Notes the engine's anonymous volumes, so that one the test leaves (they carry no project label) is found. */
export async function noteAnonymousVolumes(): Promise<void> {
  anonymousBefore = new Set(await ids(['volume', 'ls', '-q', '--filter', ANONYMOUS]))
}

/** Everything of the test still in the engine, as "kind id" strings. */
export async function leftovers(): Promise<string[]> {
  const out: string[] = []
  if (anonymousBefore !== undefined)
    for (const id of await ids(['volume', 'ls', '-q', '--filter', ANONYMOUS]))
      if (!anonymousBefore.has(id)) out.push(`anonymous volume ${id}`)
  for (const kind of ['container', 'network', 'volume'] as const) {
    const args = kind === 'container' ? ['ps', '-aq'] : [kind, 'ls', '-q']
    for (const id of await ids([...args, '--filter', PROJECT_LABEL])) out.push(`${kind} ${id}`)
  }
  for (const id of await testImages()) out.push(`image ${id}`)
  return out
}

export async function cleanup(log: (msg: string) => void): Promise<void> {
  if (stack.workdir !== '') {
    // Dummy values in case .env is missing: compose refuses every command without them.
    const r = await compose(['down', '--volumes', '--remove-orphans', '--rmi', 'local', '--timeout', '10'], 180_000, {
      POSTGRES_PASSWORD: 'unused',
      REDIS_PASSWORD: 'unused'
    })
    if (r.code !== 0) log(describeFailure('compose down', r, 10))
  }
  // Whatever compose did not remove (an interrupted run, a renamed service).
  const containers = await ids(['ps', '-aq', '--filter', PROJECT_LABEL])
  if (containers.length > 0) await docker(['rm', '-f', '-v', ...containers], 60_000)
  for (const kind of ['network', 'volume'] as const) {
    const names = await ids([kind, 'ls', '-q', '--filter', PROJECT_LABEL])
    if (names.length > 0) await docker([kind, 'rm', ...names], 60_000)
  }
  const images = await testImages()
  if (images.length > 0) await docker(['rmi', '-f', ...images], 120_000)
  removeCopy()
}
