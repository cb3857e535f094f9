// What the first ./run.sh --offline leaves: URLs printed, .env with random passwords, web started
// after db and cache were healthy, and the stand-ins labelled as such with their real versions (also in /health).
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { report } from '../lib/report.js'
import { expect, get } from '../lib/json.js'
import { events } from '../events.js'
import { getJson } from '../http.js'
import { containerOf, inspect, stack, STAND_IN_PREFIX } from '../stack.js'
import type { RunResult } from '../lib/process.js'

function checkEnvFile(): string {
  const file = join(stack.workdir, '.env')
  expect(existsSync(file), 'run.sh did not create .env')
  const text = readFileSync(file, 'utf8')
  const value = (name: string): string => new RegExp(`^${name}=(.*)$`, 'm').exec(text)?.[1] ?? ''
  const pg = value('POSTGRES_PASSWORD')
  const redis = value('REDIS_PASSWORD')
  expect(/^[0-9a-f]{32,}$/.test(pg) && /^[0-9a-f]{32,}$/.test(redis), 'passwords in .env are not long random values')
  expect(pg !== redis, 'the two passwords are the same')
  const mode = statSync(file).mode & 0o777
  expect((mode & 0o077) === 0, `.env is readable by others (mode ${mode.toString(8)})`)
  return `random passwords, mode ${mode.toString(8)}`
}

function checkStartOrder(): string {
  const ev = events()
  const firstHealthy = (svc: string): bigint | undefined =>
    ev.find((e) => e.service === svc && e.action.startsWith('health_status: healthy'))?.timeNano
  const webStart = ev.find((e) => e.service === 'web' && e.action === 'start')?.timeNano
  const db = firstHealthy('db')
  const cache = firstHealthy('cache')
  expect(
    db !== undefined && cache !== undefined && webStart !== undefined,
    `missing events (db healthy: ${db}, cache healthy: ${cache}, web start: ${webStart}); ${ev.length} events seen`
  )
  expect(webStart > db && webStart > cache, 'web started before db and cache were both healthy')
  const ms = (a: bigint, b: bigint): string => `${(Number(a - b) / 1e6).toFixed(0)} ms`
  return `web started ${ms(webStart, db)} after db and ${ms(webStart, cache)} after cache became healthy`
}

/** Each service runs a stand-in (by its label) and web is told their real versions. */
async function checkStandIns(output: string): Promise<string> {
  const labels: string[] = []
  for (const svc of ['db', 'cache', 'web']) {
    const c = await inspect(await containerOf(svc))
    const image = get(c, 'Config', 'Image')
    const official = get(c, 'Config', 'Labels', 'org.web-db-cache.stand-in')
    expect(typeof official === 'string' && official !== '', `${svc} (${String(image)}) carries no stand-in label`)
    if (svc !== 'web') expect(String(image).startsWith(`${STAND_IN_PREFIX}/`), `${svc} runs ${String(image)}`)
    labels.push(`${svc}: for ${official}`)
  }
  const env = get(await inspect(await containerOf('web')), 'Config', 'Env')
  const note = (Array.isArray(env) ? env : []).find((e) => String(e).startsWith('STACK_IMAGE_NOTE='))
  const text = String(note ?? '').replace(/^STACK_IMAGE_NOTE=/, '')
  for (const part of [/not the official ones/, /PostgreSQL \d+\.\d+/, /Redis \d+\.\d+\.\d+/, /Node\.js \d+\.\d+\.\d+/])
    expect(part.test(text), `STACK_IMAGE_NOTE (${text}) lacks ${part.source}`)
  expect(output.includes(`==> Note: ${text}`), 'run.sh did not print the note')
  const shown = get(await getJson('/health'), 'stack_images')
  expect(shown === text, `/health shows stack_images ${JSON.stringify(shown)}, not the note`)
  return text
}

export async function checkFirstStart(first: RunResult): Promise<void> {
  await report.check('run.sh prints the URLs', async () => {
    expect(first.stdout.includes(`http://localhost:${stack.port}/`), 'no URL with the published port in the output')
  })
  await report.check('run.sh created .env from .env.example with random passwords', async () => checkEnvFile())
  await report.check('web started only after db and cache were healthy', async () => checkStartOrder())
  await report.check('stand-ins are labelled, and web is told their real versions (STACK_IMAGE_NOTE)', () =>
    checkStandIns(first.stdout)
  )
}
