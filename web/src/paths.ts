import { fileURLToPath } from 'node:url'

// The same code runs from src/ (tsx) and from dist/src/ (compiled); both resolve to web/.
const WEB_ROOT = new URL(import.meta.url.includes('/dist/src/') ? '../../' : '../', import.meta.url)

export const MIGRATIONS_DIR = fileURLToPath(new URL('migrations', WEB_ROOT))
/** The status page, built by `npm run build` from web/ui. */
export const UI_DIR = fileURLToPath(new URL('dist/ui', WEB_ROOT))
export const PACKAGE_JSON = fileURLToPath(new URL('package.json', WEB_ROOT))
