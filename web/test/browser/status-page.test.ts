/**
 * The status page in a real browser (Debian's Chromium through playwright-core), against the app on
 * private PostgreSQL and Redis. `npm run test:browser` builds first: the page is served from dist/ui.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Page, Route } from 'playwright-core'
import { call, startStack, type TestStack } from '../helpers/index.js'
import { DESKTOP, PHONE, eventually, launchBrowser, text, type Browser } from './browser.js'

interface HealthBody {
  status: string
  services: {
    web: { version: string }
    db: { status: string; version: string | null }
    cache: { status: string; version: string | null }
  }
  cache_stats: { hits: number; misses: number; hit_ratio: number | null; near: { enabled: boolean } }
}

const digits = (value: string): number => Number(value.replace(/[^\d]/g, ''))

describe('status page', () => {
  let stack: TestStack
  let browser: Browser
  let page: Page
  const pageErrors: string[] = []

  before(async () => {
    stack = await startStack({ LOG_LEVEL: 'warn', DEPENDENCY_TIMEOUT_MS: '500' })
    browser = await launchBrowser()
    page = await browser.context.newPage()
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`))
    page.on('console', (message) => {
      // The browser logs every 4xx/5xx fetch. Expected ones: 503 while a service is down, 404 for a
      // cache key that expired or was deleted. Anything else is a defect.
      if (message.type() !== 'error') return
      const url = message.location().url
      const expected =
        /status of 503/.test(message.text()) ||
        (/status of 404/.test(message.text()) && new URL(url, stack.url).pathname.startsWith('/cache/'))
      if (!expected) pageErrors.push(`console: ${message.text()} (${url})`)
    })
  })

  after(async () => {
    await browser?.close()
    await stack?.close()
  })

  async function serviceState(name: string): Promise<string | null> {
    return page.locator(`[data-service="${name}"]`).getAttribute('data-state')
  }

  async function waitForHealthy(): Promise<void> {
    await eventually(async () => {
      for (const name of ['web', 'db', 'cache']) assert.equal(await serviceState(name), 'up', `${name} shown as up`)
      assert.equal(await page.locator('#overall').getAttribute('data-state'), 'healthy')
    })
  }

  test('browsers get the status page, API clients keep getting JSON, and both count the visit', async () => {
    const before = await call(stack.url, '/visits')
    const json = await call(stack.url, '/', { headers: { accept: 'application/json' } })
    assert.equal(json.status, 200)
    assert.equal(json.body.status, 'ok')

    const response = await page.goto(stack.url + '/')
    assert.ok(response !== null, 'the page load got a response')
    assert.equal(response.status(), 200)
    assert.match(response.headers()['content-type'] ?? '', /text\/html/)
    assert.match(response.headers()['content-security-policy'] ?? '', /script-src 'self'/)
    assert.equal(await page.title(), 'web-db-cache · status')
    await waitForHealthy()

    const afterVisits = await call(stack.url, '/visits')
    assert.equal(
      Number(afterVisits.body.total),
      Number(before.body.total) + 2,
      'the JSON call and the page load each counted one visit'
    )
  })

  test('shows the services, counter, hit ratio, latest visits and users exactly as the API reports them', async () => {
    await waitForHealthy()
    const health = (await call(stack.url, '/health')).body as unknown as HealthBody

    assert.equal(await text(page, '[data-service="web"] .version'), `v${health.services.web.version}`)
    for (const name of ['db', 'cache'] as const) {
      // The short version is shown ("16.4"), the full string is the tooltip ("16.4 (Debian ...)").
      const full = health.services[name].version ?? ''
      assert.equal(await text(page, `[data-service="${name}"] .version`), full.split(' ')[0])
      assert.equal(await page.locator(`[data-service="${name}"] .version`).getAttribute('title'), full)
    }
    for (const name of ['db', 'cache'])
      assert.match(await text(page, `[data-service="${name}"] .latency`), /^(< 1|\d+(\.\d)?) ms$/)
    assert.match(await text(page, '[data-service="web"] .uptime'), /^\d+ (s|min)/)

    // The counter shown is the API's total (no visit happens between the two reads).
    await eventually(async () => {
      const api = await call(stack.url, '/visits')
      assert.equal(digits(await text(page, '#visits-total')), Number(api.body.total))
    })
    assert.match(await text(page, '#visits-source-badge'), /^from (cache|PostgreSQL)$/)

    // Hit ratio: the figure shown matches hits / (hits + misses) as /health reports them at that moment.
    await eventually(async () => {
      const shown = await text(page, '#hit-ratio')
      const counts = await text(page, '#hit-counts')
      const match = /^([\d,]+) hits?, ([\d,]+) miss(es)?/.exec(counts)
      assert.ok(match, `hit counts shown: ${counts}`)
      const hits = digits(match[1] ?? '')
      const misses = digits(match[2] ?? '')
      assert.ok(hits + misses > 0, `hits ${hits} + misses ${misses} > 0`)
      assert.equal(shown, `${Math.round((Math.round((hits / (hits + misses)) * 1000) / 1000) * 1000) / 10}%`)
      const latest = ((await call(stack.url, '/health')).body as unknown as HealthBody).cache_stats
      assert.ok(latest.hits >= hits && latest.misses >= misses, 'the page never shows more than the server counted')
    })

    // Latest visits: the same ids, newest first.
    await eventually(async () => {
      const recent = (await call(stack.url, '/visits/recent?limit=10')).body.visits as unknown as Array<{ id: number }>
      const shown = await page.locator('#recent-list .visit-id').allTextContents()
      assert.deepEqual(
        shown,
        recent.map((visit) => `#${visit.id}`)
      )
    })

    // Users: the first page, row for row.
    const users = (await call(stack.url, '/users?limit=10&offset=0')).body
    const rows = page.locator('#users-body tr')
    await eventually(async () => assert.equal(await rows.count(), (users.users as unknown as unknown[]).length))
    const usernames = await page.locator('#users-body td.username > span:first-child').allTextContents()
    const emails = await page.locator('#users-body td.email').allTextContents()
    assert.deepEqual(
      usernames,
      (users.users as unknown as Array<{ username: string }>).map((u) => u.username)
    )
    assert.deepEqual(
      emails,
      (users.users as unknown as Array<{ email: string }>).map((u) => u.email)
    )
    assert.match(await text(page, '#users-range'), new RegExp(`^1–${usernames.length} of ${Number(users.total)}$`))
    assert.match(await text(page, '#users-source'), /^from (cache|PostgreSQL)$/)

    assert.equal(await page.locator('a[href="/docs"]').first().isVisible(), true)
    assert.equal((await call(stack.url, '/docs')).status, 200, 'the API docs link leads somewhere')
    assert.deepEqual(pageErrors, [])
  })

  test('refreshes live without reloading: new visits and new users appear', async () => {
    await page.evaluate('window.__sameDocument = true')
    const shown = digits(await text(page, '#visits-total'))
    for (let i = 0; i < 3; i++) await call(stack.url, '/', { headers: { accept: 'application/json' } })
    await eventually(async () => assert.equal(digits(await text(page, '#visits-total')), shown + 3), 10_000)
    const latest = (await call(stack.url, '/visits/recent?limit=1')).body.visits as unknown as Array<{ id: number }>
    await eventually(async () => assert.equal(await text(page, '#recent-list .visit-id'), `#${latest[0]?.id}`))

    // A new user shows in the table after a refresh (users are refreshed less often; the button forces it).
    const created = await call(stack.url, '/users', {
      method: 'POST',
      json: { username: 'page_tester', email: 'page_tester@example.com' }
    })
    assert.equal(created.status, 201)
    const total = Number((await call(stack.url, '/users?limit=1')).body.total)
    await page.getByRole('button', { name: 'Refresh now' }).click()
    await eventually(async () => assert.match(await text(page, '#users-range'), new RegExp(`of ${total}$`)))
    if (total > 10) {
      await page.getByRole('button', { name: 'Next →' }).click()
      // With a message: a bare assert.ok() that fails makes Node re-read the (transpiled) source to
      // describe the expression, which took minutes here, on every retry.
      await eventually(async () => {
        const shown = await page.locator('#users-body td.username > span:first-child').allTextContents()
        assert.ok(shown.includes('page_tester'), `page 2 shows ${JSON.stringify(shown)}`)
      })
      await page.getByRole('button', { name: '← Previous' }).click()
      await eventually(async () => assert.match(await text(page, '#users-range'), /^1–10 of/))
    }
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'the page was never reloaded')

    // Pausing stops the polling; resuming starts it again.
    await page.getByRole('button', { name: 'Live updates' }).click()
    assert.equal(await page.locator('#live-toggle').getAttribute('aria-pressed'), 'false')
    // A poll already on its way may still land; after it, nothing more.
    await eventually(async () => assert.equal(await page.locator('body').getAttribute('data-polling'), 'false'))
    const paused = digits(await text(page, '#visits-total'))
    await call(stack.url, '/', { headers: { accept: 'application/json' } })
    await new Promise((resolve) => setTimeout(resolve, 3500))
    assert.equal(digits(await text(page, '#visits-total')), paused, 'no refresh while paused')
    await page.getByRole('button', { name: 'Live updates' }).click()
    await eventually(async () => assert.equal(digits(await text(page, '#visits-total')), paused + 1))
    assert.deepEqual(pageErrors, [])
  })

  test('the cache form stores a value, reads it back and counts the TTL down to expiry, by keyboard', async () => {
    const key = page.getByLabel('Key')
    await key.fill('browser-test')
    await page.getByLabel(/^Value/).fill('{"n": 1, "tags": ["a", "b"]}')
    await page.getByLabel(/^TTL/).fill('3')
    await page.getByLabel(/^TTL/).press('Enter') // submits the form: no mouse needed

    await eventually(async () => assert.equal(await text(page, '#kv-message'), 'Stored "browser-test" for 3 s.'))
    const stored = await call(stack.url, '/cache/browser-test')
    assert.equal(stored.status, 200)
    assert.deepEqual(stored.body.value, { n: 1, tags: ['a', 'b'] })
    assert.deepEqual(JSON.parse(await text(page, '#kv-entry-value')), { n: 1, tags: ['a', 'b'] })

    // The TTL shown counts down, then Redis expires the key and the page says so.
    const first = await text(page, '#kv-ttl-left')
    assert.match(first, /^[1-3] s left$/)
    await eventually(async () => assert.notEqual(await text(page, '#kv-ttl-left'), first), 3000)
    await eventually(
      async () => assert.equal(await text(page, '#kv-message'), '"browser-test" has expired: Redis removed it.'),
      8000
    )
    assert.equal((await call(stack.url, '/cache/browser-test')).status, 404)

    // Plain text is stored as a JSON string; "Read back" shows what GET /cache/:key returns.
    await page.getByLabel(/^Value/).fill('hello from the status page')
    await page.getByLabel(/^TTL/).fill('120')
    await page.getByRole('button', { name: 'Store' }).click()
    await eventually(async () => assert.equal(await text(page, '#kv-message'), 'Stored "browser-test" for 120 s.'))
    assert.equal((await call(stack.url, '/cache/browser-test')).body.value, 'hello from the status page')
    await page.getByRole('button', { name: 'Read back' }).click()
    await eventually(async () => assert.equal(await text(page, '#kv-message'), 'Read "browser-test" back from Redis.'))
    assert.match(await text(page, '#kv-ttl-left'), /^(\d+ min \d+ s|\d+ s) left$/)

    // Delete, then reading again says there is nothing.
    await page.getByRole('button', { name: 'Delete' }).click()
    await eventually(async () => assert.equal(await text(page, '#kv-message'), 'Deleted "browser-test".'))
    assert.equal((await call(stack.url, '/cache/browser-test')).status, 404)
    await page.getByRole('button', { name: 'Read back' }).click()
    await eventually(async () => assert.match(await text(page, '#kv-message'), /^No value stored under "browser-test"/))

    // A bad TTL is refused in the page, with the field marked invalid and focused.
    await page.getByLabel(/^TTL/).fill('0')
    await page.getByRole('button', { name: 'Store' }).click()
    await eventually(async () => assert.match(await text(page, '#kv-message'), /^TTL must be a whole number/))
    assert.equal(await page.getByLabel(/^TTL/).getAttribute('aria-invalid'), 'true')
    assert.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'kv-ttl')
    assert.deepEqual(pageErrors, [])
  })

  test('is usable by keyboard: skip link first, every control reachable and labelled', async () => {
    await page.goto(stack.url + '/')
    await waitForHealthy()
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate('document.activeElement && document.activeElement.textContent'), 'Skip to content')
    const reached: string[] = []
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab')
      reached.push(
        String(
          await page.evaluate(
            'document.activeElement && (document.activeElement.id || document.activeElement.textContent)'
          )
        )
      )
    }
    for (const id of ['refresh-now', 'live-toggle', 'kv-key', 'kv-value', 'kv-ttl', 'kv-store', 'kv-read']) {
      assert.ok(reached.includes(id), `${id} is reachable with Tab (reached: ${reached.join(', ')})`)
    }
    // Every input has a label a screen reader can announce.
    for (const id of ['kv-key', 'kv-value', 'kv-ttl', 'kv-token']) {
      assert.equal(await page.locator(`label[for="${id}"]`).count(), 1, `#${id} has a label`)
    }
  })

  test('screenshots: desktop and phone, healthy, with a value in the cache form', async () => {
    await page.goto(stack.url + '/')
    await waitForHealthy()
    await page.getByLabel('Key').fill('greeting')
    await page.getByLabel(/^Value/).fill('{"hello": "world", "from": "the status page"}')
    await page.getByLabel(/^TTL/).fill('90')
    await page.getByRole('button', { name: 'Store' }).click()
    await eventually(async () => assert.match(await text(page, '#kv-message'), /^Stored "greeting"/))
    await page.getByRole('button', { name: 'Refresh now' }).click()
    await waitForHealthy()
    await browser.screenshot(page, 'status-desktop.png', DESKTOP)
    await browser.screenshot(page, 'status-phone.png', PHONE)
    // The page follows the system's dark theme.
    await page.emulateMedia({ colorScheme: 'dark' })
    await browser.screenshot(page, 'status-dark-desktop.png', DESKTOP)
    await page.emulateMedia({ colorScheme: 'light' })
    await page.setViewportSize(DESKTOP)

    // On a phone nothing overflows sideways: the page is no wider than the screen.
    await page.setViewportSize(PHONE)
    assert.ok(
      Number(await page.evaluate('document.documentElement.scrollWidth')) <= PHONE.width,
      'no horizontal scroll on a phone'
    )
    await page.setViewportSize(DESKTOP)
    assert.deepEqual(pageErrors, [])
  })

  test('Redis stops: the page shows the cache down and says visits still count from PostgreSQL; then it recovers', async () => {
    await waitForHealthy()
    await stack.redis.stop()
    try {
      await eventually(async () => {
        assert.equal(await serviceState('cache'), 'down')
        assert.equal(await page.locator('#overall').getAttribute('data-state'), 'degraded')
      })
      assert.equal(await serviceState('db'), 'up')
      assert.equal(await text(page, '#overall-text'), 'Degraded: cache down')
      assert.equal(await text(page, '[data-service="cache"] .status-text'), 'down')
      const alert = await text(page, '[data-alert="cache"]')
      assert.match(alert, /Redis \(cache\) is down/)
      assert.match(alert, /visits are still counted and read from PostgreSQL/)
      assert.match(await page.title(), /^\(degraded\)/)

      // Visits still count, from PostgreSQL, and the page shows it.
      const before = Number((await call(stack.url, '/visits')).body.total)
      const visit = await call(stack.url, '/', { headers: { accept: 'application/json' } })
      assert.equal(visit.status, 200)
      await eventually(async () => {
        assert.equal(digits(await text(page, '#visits-total')), before + 1)
        assert.equal(await text(page, '#visits-source-badge'), 'from PostgreSQL')
      })

      // The cache form explains why it cannot store.
      await page.getByLabel('Key').fill('while-down')
      await page.getByLabel(/^TTL/).fill('30')
      await page.getByRole('button', { name: 'Store' }).click()
      const refused = await call(stack.url, '/cache', {
        method: 'POST',
        json: { key: 'while-down', value: 1, ttl: 30 }
      })
      assert.equal(refused.status, 503)
      await eventually(async () => assert.equal(await text(page, '#kv-message'), String(refused.body.message)))
      assert.equal(await page.locator('#kv-entry').isVisible(), false, 'no stale entry shown next to the error')

      await browser.screenshot(page, 'status-cache-down-desktop.png', DESKTOP)
      await browser.screenshot(page, 'status-cache-down-phone.png', PHONE)
      await page.setViewportSize(DESKTOP)
    } finally {
      await stack.redis.start()
    }
    await eventually(async () => {
      assert.equal(await serviceState('cache'), 'up')
      assert.equal(await page.locator('#alerts [data-alert]').count(), 0)
    }, 30_000)
    assert.equal(await text(page, '#overall-text'), 'All systems up')
  })

  test('the web service stops answering: the page says so and keeps the last figures, then recovers', async () => {
    await waitForHealthy()
    const shown = await text(page, '#visits-total')
    // Every API call from the page fails at the network level, as when the service is down.
    const cut = (route: Route) => route.abort('connectionrefused')
    await page.route(/\/(health|visits|users)/, cut)
    try {
      await eventually(async () =>
        assert.match(await text(page, '[data-alert="web"]'), /The web service is not answering/)
      )
      assert.equal(await text(page, '#overall-text'), 'Web service unreachable')
      assert.equal(await text(page, '#visits-total'), shown, 'the last known counter stays visible')
    } finally {
      await page.unroute(/\/(health|visits|users)/, cut)
    }
    await waitForHealthy()
    assert.equal(await page.locator('#alerts [data-alert]').count(), 0)
  })

  test('PostgreSQL stops: the page says visits cannot be stored; then it recovers', async () => {
    await waitForHealthy()
    await stack.pg.stop()
    try {
      await eventually(async () => {
        assert.equal(await serviceState('db'), 'down')
        assert.equal(await page.locator('#overall').getAttribute('data-state'), 'unhealthy')
      })
      assert.match(await text(page, '[data-alert="db"]'), /Visits cannot be stored/)
      assert.equal(await text(page, '#overall-text'), 'Unhealthy: database down')
      assert.equal((await call(stack.url, '/', { headers: { accept: 'application/json' } })).status, 503)
      await eventually(async () => assert.match(await text(page, '#recent-error'), /^Could not refresh/))
    } finally {
      await stack.pg.start()
    }
    await waitForHealthy()
    await eventually(async () => assert.equal(await page.locator('#recent-error').isVisible(), false))
  })
})
