// The configuration table against the docs: every variable the service reads is in the variables
// table of both READMEs, with the table's default, and every variable of .env.example is one the
// service reads or one that only compose.yaml, run.sh or the backup service use.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ALL_VARIABLES, SETTINGS } from '../../src/config/table.js'
import { loadConfig } from '../../src/config.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const read = (file: string) => readFileSync(`${root}${file}`, 'utf8')

/** Read by compose.yaml, run.sh or the backup service, never by the web service itself. */
const COMPOSE_ONLY = new Set([
  'COMPOSE_PROJECT_NAME',
  'WEB_PORT',
  'POSTGRES_IMAGE',
  'REDIS_IMAGE',
  'PROXY_IMAGE',
  'NODE_IMAGE',
  'DEV_DB_PORT',
  'DEV_CACHE_PORT',
  'POSTGRES_USER',
  'POSTGRES_DB',
  'POSTGRES_PASSWORD',
  'BACKUP_DIR',
  'BACKUP_SCHEDULE',
  'BACKUP_KEEP',
  // ./run.sh --swarm (deploy/swarm.sh)
  'WEB_REPLICAS',
  'WEB_IMAGE',
  'SWARM_ADVERTISE_ADDR',
  // ./run.sh --update (deploy/update.sh)
  'UPDATE_TIMEOUT_S',
  'UPDATE_DRAIN_S'
])

/** OpenTelemetry's standard variables, read by config/tracing.ts and described in docs/tracing.md. */
const isOpenTelemetry = (name: string) => name.startsWith('OTEL_')

const VARIABLE_NAME = /`([A-Z][A-Z0-9_]*)`/g

/** Rows of the README's variables table: the names in the first cell, and the default cell. */
function variableRows(readme: string): Array<{ names: string[]; defaults: string }> {
  const rows: Array<{ names: string[]; defaults: string }> = []
  for (const line of readme.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim())
    // | names | default | meaning |: the first cell holds only variable names in backticks.
    if (cells.length !== 5 || !/^(`[A-Z][A-Z0-9_]*`(, )?)+$/.test(cells[1] ?? '')) continue
    rows.push({
      names: [...(cells[1] ?? '').matchAll(VARIABLE_NAME)].map((m) => m[1] as string),
      defaults: cells[2] ?? ''
    })
  }
  return rows
}

const shown = (value: string | number | boolean): string => `\`${String(value)}\``

for (const readme of ['README.md', 'README.pt-BR.md']) {
  test(`${readme} documents every variable of the configuration table, with its default`, () => {
    const rows = variableRows(read(readme))
    const documented = new Set(rows.flatMap((row) => row.names))
    const missing = ALL_VARIABLES.map((v) => v.env).filter((name) => !documented.has(name))
    assert.deepEqual(missing, [], `${readme} lacks these variables in its table`)
    const unknown = [...documented].filter(
      (name) => !ALL_VARIABLES.some((v) => v.env === name) && !isOpenTelemetry(name)
    )
    assert.deepEqual(unknown, [], `${readme} documents variables the service does not read`)
    for (const setting of Object.values(SETTINGS)) {
      if (!('default' in setting)) continue
      const row = rows.find((r) => r.names.includes(setting.env))
      assert.ok(
        row?.defaults.includes(shown(setting.default)),
        `${readme}: ${setting.env} defaults to ${shown(setting.default)}, the table says "${row?.defaults}"`
      )
    }
  })
}

test('every variable of .env.example is read by the service or listed as compose-only', () => {
  const names = [...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string)
  assert.ok(names.length > 10, 'the variables of .env.example were found')
  const known = new Set([...ALL_VARIABLES.map((v) => v.env), ...COMPOSE_ONLY])
  assert.deepEqual(
    names.filter((name) => !known.has(name) && !isOpenTelemetry(name)),
    [],
    'unknown variables in .env.example'
  )
})

test('the value .env.example suggests for a service setting passes the table', () => {
  const env = Object.fromEntries(
    [...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1] as string, m[2] as string])
  )
  const service = Object.fromEntries(
    Object.entries(env).filter(([name]) => Object.values(SETTINGS).some((s) => s.env === name))
  )
  assert.doesNotThrow(() => loadConfig(service))
})

test('the table names each variable once', () => {
  const names = ALL_VARIABLES.map((v) => v.env)
  assert.equal(new Set(names).size, names.length)
})
