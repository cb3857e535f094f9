// Builds the status page into dist/ui: the static files (HTML, CSS, icon) and one .js per TypeScript
// module of ui/, transpiled on its own. The browser loads them as ES modules, so there is no bundler.
// Types are checked before, by `tsc -p ui/tsconfig.json` (see the build script), which emits nothing:
// the page imports types from the server's schemas, and tsc would emit those server files too.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { exit, stderr } from 'node:process'
import { URL, fileURLToPath } from 'node:url'
import ts from 'typescript'

const web = fileURLToPath(new URL('..', import.meta.url))
const ui = join(web, 'ui')
const out = join(web, 'dist', 'ui')

const config = ts.getParsedCommandLineOfConfigFile(
  join(ui, 'tsconfig.json'),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail(d) }
)
if (config === undefined || config.errors.length > 0) fail(config?.errors[0])

rmSync(out, { recursive: true, force: true })
cpSync(join(ui, 'static'), out, { recursive: true })
for (const file of config.fileNames) {
  const { outputText, diagnostics } = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: config.options,
    fileName: file,
    reportDiagnostics: true
  })
  if (diagnostics?.length) fail(diagnostics[0])
  const target = join(out, relative(ui, file).replace(/\.ts$/, '.js'))
  mkdirSync(dirname(target), { recursive: true })
  writeFileSync(target, outputText)
}

function fail(diagnostic) {
  const text = diagnostic
    ? ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
    : 'unreadable ui/tsconfig.json'
  stderr.write(`build-ui: ${diagnostic?.file ? `${diagnostic.file.fileName}: ` : ''}${text}\n`)
  exit(1)
}
