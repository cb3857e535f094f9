/**
 * Debian's Chromium, driven by playwright-core, with a fresh profile for each test file.
 * Install it with `apt-get install -y chromium`, or point CHROMIUM_BIN at another build.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'

/** docs/screenshots at the repository root (the READMEs link the files saved there), or SCREENSHOTS_DIR. */
export const SCREENSHOTS_DIR =
  process.env.SCREENSHOTS_DIR ?? fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))

export const DESKTOP = { width: 1280, height: 900 }
export const PHONE = { width: 390, height: 844 }

export interface Browser {
  context: BrowserContext
  close(): Promise<void>
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` or set CHROMIUM_BIN`
    )
  const profile = mkdtempSync(join(tmpdir(), 'status-page-chromium-'))
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
    reducedMotion: 'reduce'
  })
  context.setDefaultTimeout(15_000)
  return {
    context,
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

export async function screenshot(
  page: Page,
  name: string,
  viewport: { width: number; height: number }
): Promise<string> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true })
  await page.setViewportSize(viewport)
  // No hover or focus ring from the test's last click in the picture.
  await page.mouse.move(viewport.width - 1, viewport.height - 1)
  await page.evaluate('document.activeElement instanceof HTMLElement && document.activeElement.blur()')
  // Let the layout settle (meters animate their width) before the picture.
  await sleep(600)
  const file = join(SCREENSHOTS_DIR, name)
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' })
  return file
}
