// Data survives ./run.sh (down + up, volumes kept) and ./run.sh --reset deletes it.
import { report } from '../lib/report.js'
import { expect, get } from '../lib/json.js'
import { getJson, jsonInit, visitsTotal } from '../http.js'
import { runScript } from '../stack.js'

const KEY = 'e2e-persist'

export async function checkPersistence(): Promise<void> {
  const visits = await report.phase('write a visit and a cache key', async () => {
    await getJson('/')
    await getJson('/cache', 201, jsonInit('POST', { key: KEY, value: 'kept', ttl: 3600 }))
    return visitsTotal()
  })
  await report.phase('./run.sh --offline again (down + up, volumes kept)', () => runScript(['--offline'], 300_000))
  await report.check('the visit count and the cache key survive down + up', async () => {
    const total = await visitsTotal()
    expect(total === visits, `visits ${visits} before, ${total} after`)
    const v = await getJson(`/cache/${KEY}`)
    expect(get(v, 'value') === 'kept', `key after restart: ${JSON.stringify(v)}`)
    return `visits ${total}, key kept`
  })
  await report.phase('./run.sh --offline --reset', () => runScript(['--offline', '--reset'], 300_000))
  await report.check('run.sh --reset clears them', async () => {
    const total = await visitsTotal()
    expect(total === 0, `visits after reset: ${total}`)
    await getJson(`/cache/${KEY}`, 404)
    return 'visits 0, key gone'
  })
}
