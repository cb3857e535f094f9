// Losing Redis: /health says degraded, visits still count, and when Redis is back everything is
// healthy again without restarting web. Stopping web is quick: signals reach node.
import { report } from '../lib/report.js'
import { expect, get } from '../lib/json.js'
import { must, waitUntil } from '../lib/process.js'
import { http, getJson } from '../http.js'
import { compose, containerOf, inspect } from '../stack.js'

export async function checkCacheOutage(): Promise<void> {
  const web = await containerOf('web')
  const before = await inspect(web)
  const startedAt = get(before, 'State', 'StartedAt')
  await report.check('compose kill cache: /health 503 degraded, visits still count', async () => {
    const t = Date.now()
    await must('compose kill cache', compose(['kill', 'cache'], 60_000))
    const body = await waitUntil('/health 503 degraded', 30_000, async () => {
      const r = await http('/health')
      return r.status === 503 && get(r.json, 'status') === 'degraded' ? r.json : undefined
    })
    expect(
      get(body, 'services', 'cache', 'status') === 'down' && get(body, 'services', 'db', 'status') === 'up',
      JSON.stringify(body)
    )
    const noticed = Date.now() - t
    const a = get(await getJson('/'), 'visits')
    const b = get(await getJson('/'), 'visits')
    expect(typeof a === 'number' && b === a + 1, `visits during the outage: ${String(a)} then ${String(b)}`)
    const cacheState = get(await inspect(await containerOf('cache')), 'State', 'Status')
    expect(cacheState === 'exited', `cache is ${String(cacheState)} (the restart policy must not revive a killed one)`)
    return `degraded after ${(noticed / 1000).toFixed(1)}s; visits ${String(a)} -> ${String(b)}`
  })
  await report.check('compose start cache: healthy again without restarting web', async () => {
    const t = Date.now()
    await must('compose start cache', compose(['start', 'cache'], 60_000))
    await waitUntil('/health 200 healthy', 60_000, async () => {
      const r = await http('/health')
      return r.status === 200 && get(r.json, 'status') === 'healthy' ? true : undefined
    })
    const recovered = Date.now() - t
    const after = await inspect(await containerOf('web'))
    expect(get(after, 'Id') === get(before, 'Id'), 'web container was replaced')
    expect(get(after, 'State', 'StartedAt') === startedAt && get(after, 'RestartCount') === 0, 'web was restarted')
    await getJson('/cache')
    return `healthy ${(recovered / 1000).toFixed(1)}s after start; web not restarted`
  })
}

export async function checkStopWeb(): Promise<string> {
  const r = await must('compose stop web', compose(['stop', 'web'], 60_000))
  const code = get(await inspect(await containerOf('web')), 'State', 'ExitCode')
  expect(r.ms < 10_000, `stop took ${(r.ms / 1000).toFixed(1)}s`)
  expect(code === 0 || code === 143, `web exited with ${String(code)} (137 = killed after the grace period)`)
  const logs = await compose(['logs', '--no-color', '--tail', '5', 'web'], 30_000)
  const clean = /stopped cleanly/.test(logs.stdout)
  return `${(r.ms / 1000).toFixed(1)}s, exit code ${String(code)}${clean ? ', "stopped cleanly" logged' : ''}`
}
