/**
 * Debian's Chromium, driven by playwright-core, with a fresh profile for each test file.
 * Install it with `apt-get install -y chromium`, or point CHROMIUM_BIN at another build.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'

export const DESKTOP = { width: 1280, height: 900 }
export const PHONE = { width: 390, height: 844 }

export interface Browser {
  context: BrowserContext
  /** A full-page PNG at `viewport`; returns its path. */
  screenshot(page: Page, name: string, viewport: { width: number; height: number }): Promise<string>
  close(): Promise<void>
}

/**
 * Screenshots go to SCREENSHOTS_DIR when it is set (`npm run screenshots` sets it to docs/screenshots,
 * which the READMEs show), else to a temporary folder removed with the browser: a test run leaves the
 * committed pictures, and the working tree, as they were.
 */
export async function launchBrowser(options: { javaScript?: boolean } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` or set CHROMIUM_BIN`
    )
  const profile = mkdtempSync(join(tmpdir(), 'status-page-chromium-'))
  const kept = process.env.SCREENSHOTS_DIR
  const screenshots = kept === undefined || kept === '' ? join(profile, 'screenshots') : resolve(kept)
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync'
    ],
    viewport: DESKTOP,
    locale: 'en-US',
    timezoneId: 'UTC',
    colorScheme: 'light',
    reducedMotion: 'reduce',
    javaScriptEnabled: options.javaScript ?? true
  })
  context.setDefaultTimeout(15_000)
  return {
    context,
    screenshot: (page, name, viewport) => screenshot(page, join(screenshots, name), viewport),
    async close() {
      await context.close().catch(() => undefined)
      rmSync(profile, { recursive: true, force: true })
    }
  }
}

/** Retries `check` until it stops throwing, or rethrows its last error after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 15_000, intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await sleep(intervalMs)
    }
  }
}

/** The trimmed text of the first element matching `selector`. */
export async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').trim()
}

async function screenshot(page: Page, file: string, viewport: { width: number; height: number }): Promise<string> {
  mkdirSync(dirname(file), { recursive: true })
  await page.setViewportSize(viewport)
  // No hover or focus ring from the test's last click in the picture.
  await page.mouse.move(viewport.width - 1, viewport.height - 1)
  await page.evaluate('document.activeElement instanceof HTMLElement && document.activeElement.blur()')
  // Let the layout settle (meters animate their width) before the picture.
  await sleep(600)
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' })
  return file
}
