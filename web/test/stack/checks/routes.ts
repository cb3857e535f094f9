// The HTTP API over the published port, and `npm run doctor` inside web.
import { report } from '../lib/report.js'
import { expect, get } from '../lib/json.js'
import { must } from '../lib/process.js'
import { http, getJson, jsonInit, visitsTotal } from '../http.js'
import { compose } from '../stack.js'

export async function checkRoutes(): Promise<void> {
  await report.check('GET / counts a visit (JSON) and serves the status page to browsers', async () => {
    const before = await visitsTotal()
    const body = await getJson('/')
    expect(get(body, 'visits') === before + 1, `visits went from ${before} to ${String(get(body, 'visits'))}`)
    const page = await http('/', { headers: { accept: 'text/html' } })
    expect(
      page.status === 200 && page.contentType.includes('text/html'),
      `browser page: ${page.status} ${page.contentType}`
    )
    return `visits ${before} -> ${before + 1}`
  })
  await report.check('GET /visits and /visits/recent', async () => {
    const v = await getJson('/visits')
    expect(
      get(v, 'label') === 'homepage' && typeof get(v, 'total') === 'number' && typeof get(v, 'cached') === 'boolean',
      `bad body ${JSON.stringify(v)}`
    )
    const recent = get(await getJson('/visits/recent?limit=5'), 'visits')
    expect(Array.isArray(recent) && recent.length >= 1, 'no recent visits')
  })
  await report.check('GET /db reaches PostgreSQL', async () => {
    const body = await getJson('/db')
    expect(get(body, 'status') === 'ok', JSON.stringify(body))
    return `PostgreSQL ${String(get(body, 'version')).split(' ')[0]}`
  })
  await report.check('GET /cache writes and reads the probe key in Redis', async () => {
    const body = await getJson('/cache')
    expect(get(body, 'status') === 'ok', JSON.stringify(body))
  })
  await report.check('POST, GET, DELETE /cache/:key', async () => {
    const value = { n: 1, s: 'stack' }
    await getJson('/cache', 201, jsonInit('POST', { key: 'e2e-probe', value, ttl: 600 }))
    const got = await getJson('/cache/e2e-probe')
    expect(JSON.stringify(get(got, 'value')) === JSON.stringify(value), `read back ${JSON.stringify(got)}`)
    const del = await http('/cache/e2e-probe', { method: 'DELETE' })
    expect(del.status === 204, `DELETE: ${del.status}`)
    await getJson('/cache/e2e-probe', 404)
  })
  await report.check('GET /users and the users CRUD', async () => {
    const total = get(await getJson('/users'), 'total')
    expect(typeof total === 'number' && total >= 10, `expected the ten sample users, got ${String(total)}`)
    const name = `e2e_${Date.now()}`
    const created = await getJson('/users', 201, jsonInit('POST', { username: name, email: `${name}@example.com` }))
    const id = get(created, 'id')
    expect(typeof id === 'number', `POST /users returned ${JSON.stringify(created)}`)
    await getJson(`/users/${id}`)
    const patched = await getJson(`/users/${id}`, 200, jsonInit('PATCH', { email: `${name}@example.org` }))
    expect(get(patched, 'email') === `${name}@example.org`, `PATCH returned ${JSON.stringify(patched)}`)
    await getJson('/users', 409, jsonInit('POST', { username: name, email: `other-${name}@example.com` }))
    const del = await http(`/users/${id}`, { method: 'DELETE' })
    expect(del.status === 204, `DELETE: ${del.status}`)
    await getJson(`/users/${id}`, 404)
    return `${total} users`
  })
  await report.check('GET /health, /livez, /readyz report healthy', async () => {
    const h = await getJson('/health')
    expect(get(h, 'status') === 'healthy', JSON.stringify(h))
    expect(
      get(h, 'services', 'db', 'status') === 'up' && get(h, 'services', 'cache', 'status') === 'up',
      JSON.stringify(h)
    )
    await getJson('/livez')
    await getJson('/readyz')
  })
  await report.check('GET /metrics and /docs', async () => {
    const m = await http('/metrics')
    expect(m.status === 200 && m.text.includes('# HELP'), `metrics: ${m.status}`)
    const d = await http('/docs')
    expect(d.status === 200 && d.contentType.includes('text/html'), `docs: ${d.status} ${d.contentType}`)
  })
  await report.check('npm run doctor inside web passes (db and cache by service name)', async () => {
    const r = await must(
      'compose exec web npm run doctor',
      compose(['exec', '-T', 'web', 'npm', 'run', 'doctor'], 60_000)
    )
    const lines = r.stdout.trim().split('\n')
    return lines[lines.length - 1]?.trim()
  })
}
