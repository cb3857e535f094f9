/**
 * The status page with JavaScript turned off. The cache form then submits the browser's own way, and
 * what was typed in it, the API token above all, must travel in a request body: never in a URL, where
 * it would stay in the address bar, the history, proxy and server logs, and Referer headers.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import { call, startStack, type TestStack } from '../helpers/index.js'
import { launchBrowser, type Browser } from './browser.js'

const TOKEN = 'no-script-token-0123456789'

describe('status page without JavaScript', () => {
  let stack: TestStack
  let browser: Browser
  let page: Page

  before(async () => {
    stack = await startStack({ LOG_LEVEL: 'warn', API_TOKEN: TOKEN })
    browser = await launchBrowser({ javaScript: false })
    page = await browser.context.newPage()
  })

  after(async () => {
    await browser?.close()
    await stack?.close()
  })

  test('the cache form posts its fields in the body: the token never lands in a URL', async () => {
    const urls: string[] = []
    page.on('request', (request) => urls.push(request.url()))
    await page.goto(stack.url + '/')
    assert.match((await page.locator('noscript .alert').textContent()) ?? '', /This page needs JavaScript/)
    assert.equal(await page.locator('noscript .alert').isVisible(), true)
    assert.equal(await page.locator('form:not([method="post"])').count(), 0, 'every form posts')

    await page.getByLabel('Key').fill('no-script')
    await page.locator('summary').click() // <details> opens without JavaScript
    await page.getByLabel('API token').fill(TOKEN)
    const [submitted] = await Promise.all([
      page.waitForRequest((request) => request.isNavigationRequest() && request.url() !== stack.url + '/'),
      page.getByLabel('API token').press('Enter')
    ])

    assert.equal(submitted.method(), 'POST')
    assert.equal(new URL(submitted.url()).pathname, '/cache')
    assert.equal(new URL(submitted.url()).search, '', 'no query string')
    assert.match(submitted.postData() ?? '', /token=no-script-token/, 'the fields went in the body')
    await page.waitForLoadState()
    for (const url of [...urls, page.url()]) assert.ok(!url.includes(TOKEN), `token in a URL: ${url}`)

    // The service refuses a form body as it refuses any body that is not JSON: a 4xx with its JSON shape.
    const response = await submitted.response()
    assert.ok(response !== null, 'the submission got an answer')
    assert.ok(response.status() >= 400 && response.status() < 500, `status ${response.status()}`)
    const body = (await response.json()) as { error?: unknown; message?: unknown }
    assert.equal(typeof body.error, 'string')
    assert.equal(typeof body.message, 'string')
    assert.equal((await call(stack.url, '/cache/no-script')).status, 404, 'nothing was stored')
  })
})
