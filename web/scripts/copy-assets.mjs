// Copies the status page's static files (HTML, CSS, icon) next to its compiled script in dist/ui.
// The script itself, ui/app.ts, is compiled to dist/ui/app.js by `tsc -p ui/tsconfig.json` (see the build script).
import { cpSync, existsSync } from 'node:fs'

if (existsSync('ui/static')) cpSync('ui/static', 'dist/ui', { recursive: true })
