// Static checks of the compose stack: compose.yaml, web/Dockerfile, .env.example,
// .dockerignore and run.sh. No engine needed (the end-to-end proof is
// test/stack/run-stack-test.ts); when docker-compose is installed, its own
// parser checks the file too.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync, existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { Ajv2019 } from 'ajv/dist/2019.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const read = (rel: string): string => readFileSync(ROOT + rel, 'utf8')

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Obj = { [key: string]: Json }

function isObj(value: Json | undefined): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
function obj(value: Json | undefined, what: string): Obj {
  assert.ok(isObj(value), `${what} must be a mapping`)
  return value
}
function list(value: Json | undefined, what: string): Json[] {
  assert.ok(Array.isArray(value), `${what} must be a list`)
  return value
}
function str(value: Json | undefined, what: string): string {
  assert.equal(typeof value, 'string', `${what} must be a string`)
  return value as string
}

const composeText = read('compose.yaml')
const compose = obj(parse(composeText) as Json, 'compose.yaml')
const services = obj(compose.services, 'services')
const service = (name: string): Obj => obj(services[name], `services.${name}`)
const NAMES = ['db', 'cache', 'web']

/** A healthcheck's test as one string, whatever its form. */
function healthTest(name: string): string {
  const hc = obj(service(name).healthcheck, `${name}.healthcheck`)
  const t = hc.test
  if (typeof t === 'string') return t
  return list(t, `${name}.healthcheck.test`)
    .map((x) => str(x, 'test item'))
    .join(' ')
}

/** Environment as a map, from either the list or the mapping form. */
function environment(name: string): Record<string, string> {
  const env = service(name).environment
  const out: Record<string, string> = {}
  if (env === undefined) return out
  if (Array.isArray(env)) {
    for (const item of env) {
      const [k, ...v] = str(item, 'environment item').split('=')
      out[k ?? ''] = v.join('=')
    }
    return out
  }
  for (const [k, v] of Object.entries(obj(env, `${name}.environment`))) out[k] = v === null ? '' : String(v)
  return out
}

test('compose.yaml is valid against the Compose Specification schema (as docker-compose 1.29 ships it)', () => {
  const schema = JSON.parse(read('web/test/fixtures/compose-spec.json')) as Record<string, unknown>
  // The file declares draft 2019-09 under its old http URI and carries draft-04
  // `id` annotations; Ajv2019 knows the draft, so drop the URI and those ids.
  delete schema.$schema
  const dropIds = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(dropIds)
    else if (typeof node === 'object' && node !== null) {
      const o = node as Record<string, unknown>
      if (typeof o.id === 'string') delete o.id
      Object.values(o).forEach(dropIds)
    }
  }
  dropIds(schema)
  const ajv = new Ajv2019({ allErrors: true, strict: false })
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/)
  ajv.addFormat('ports', true)
  ajv.addFormat('expose', true)
  ajv.addFormat('subnet_ip_address', true)
  const validate = ajv.compile(schema)
  const ok = validate(compose)
  assert.ok(ok, `schema errors: ${JSON.stringify(validate.errors, null, 2)}`)
})

test('compose.yaml avoids what docker-compose 1.29 does not accept', () => {
  assert.equal(compose.name, undefined, 'no top-level name: (use COMPOSE_PROJECT_NAME in .env)')
  assert.equal(compose.version, undefined, 'no obsolete version: key')
  for (const name of NAMES) {
    const hc = service(name).healthcheck
    if (isObj(hc)) assert.equal(hc.start_interval, undefined, `${name}: no healthcheck start_interval`)
    const deps = service(name).depends_on
    if (isObj(deps))
      for (const [dep, cond] of Object.entries(deps)) {
        assert.equal(obj(cond, `${name}.depends_on.${dep}`).restart, undefined, 'no depends_on.restart')
      }
  }
})

test('the stack has exactly web, db and cache, each with a real health check', () => {
  assert.deepEqual(Object.keys(services).sort(), [...NAMES].sort())
  for (const name of NAMES) {
    const hc = obj(service(name).healthcheck, `${name}.healthcheck`)
    assert.notEqual(hc.disable, true, `${name}: health check disabled`)
    for (const key of ['interval', 'timeout', 'retries', 'start_period']) {
      assert.ok(hc[key] !== undefined, `${name}.healthcheck.${key} is set`)
    }
  }
  const db = healthTest('db')
  assert.match(db, /pg_isready/)
  assert.match(db, /-h 127\.0\.0\.1/, 'db check goes over TCP to 127.0.0.1, not the init-time socket')
  assert.match(db, /-U\s/)
  assert.match(db, /-d\s/)
  const cache = healthTest('cache')
  assert.match(cache, /redis-cli/)
  assert.match(cache, /\bping\b/i)
  assert.match(cache, /PONG/, 'cache check requires PONG (an auth error does not count)')
  const authenticated =
    /REDISCLI_AUTH|-a\s|--pass|--askpass/.test(cache) || environment('cache').REDISCLI_AUTH !== undefined
  assert.ok(authenticated, 'cache check authenticates')
  const web = healthTest('web')
  assert.match(web, /\/livez/)
  assert.match(web, /^CMD node /, 'web check uses node, which the image has')
})

test('web waits until db and cache are healthy', () => {
  const deps = obj(service('web').depends_on, 'web.depends_on')
  assert.deepEqual(Object.keys(deps).sort(), ['cache', 'db'])
  for (const dep of ['db', 'cache']) {
    assert.equal(obj(deps[dep], `web.depends_on.${dep}`).condition, 'service_healthy')
  }
})

test('only web publishes a port, and db and cache live on the internal network only', () => {
  assert.deepEqual(list(service('web').ports, 'web.ports'), ['${WEB_PORT:-8000}:8000'])
  for (const name of ['db', 'cache']) {
    assert.equal(service(name).ports, undefined, `${name} publishes no port`)
    assert.equal(service(name).network_mode, undefined)
    assert.deepEqual(list(service(name).networks, `${name}.networks`), ['backend'])
  }
  assert.deepEqual(list(service('web').networks, 'web.networks').map(String).sort(), ['backend', 'frontend'])
  const networks = obj(compose.networks, 'networks')
  assert.equal(obj(networks.backend, 'networks.backend').internal, true, 'backend is internal: true')
  assert.notEqual(obj(networks.frontend ?? {}, 'networks.frontend').internal, true)
})

test('no password or token is written in compose.yaml; required ones fail loudly when unset', () => {
  const secretish = /PASSWORD|SECRET|TOKEN|AUTH/i
  for (const name of NAMES) {
    for (const [key, value] of Object.entries(environment(name))) {
      if (!secretish.test(key)) continue
      assert.match(value, /^\$\{[A-Z_][A-Z0-9_]*(:?[-?][^}]*)?\}$/, `${name}.${key} must come from the environment`)
      if (/PASSWORD|AUTH/.test(key))
        assert.match(value, /^\$\{[A-Z_]+:\?.+\}$/, `${name}.${key} must be required (\${VAR:?message})`)
    }
  }
  const command = list(service('cache').command, 'cache.command').map((x) => str(x, 'command item'))
  const i = command.indexOf('--requirepass')
  assert.ok(i >= 0, 'Redis requires a password')
  assert.match(command[i + 1] ?? '', /^\$\{REDIS_PASSWORD:\?.+\}$/)
  // Any `password: literal` or `password=literal` anywhere outside comments.
  const code = composeText
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n')
  assert.doesNotMatch(code, /^\s*(-\s*)?[\w.-]*(password|passwd|secret|token)[\w.-]*\s*[:=]\s*(?!["']?\$\{)\S/im)
})

test('images are pinned and web is built from web/Dockerfile with the repository root as context', () => {
  assert.match(
    str(service('db').image, 'db.image'),
    /^postgres:(1[0-7])\.\d+(-[a-z0-9.]+)?$/,
    'postgres pinned to a 17.x-or-older minor'
  )
  assert.match(
    str(service('cache').image, 'cache.image'),
    /^redis:\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$/,
    'redis pinned to a minor'
  )
  const build = obj(service('web').build, 'web.build')
  assert.equal(build.context, '.')
  assert.equal(build.dockerfile, 'web/Dockerfile')
  assert.ok(existsSync(ROOT + 'web/Dockerfile'))
})

test('named volumes are declared and used; Redis persists with append-only', () => {
  const volumes = obj(compose.volumes, 'volumes')
  assert.deepEqual(Object.keys(volumes).sort(), ['cache-data', 'db-data'])
  const used = new Set<string>()
  for (const name of NAMES) {
    for (const v of service(name).volumes === undefined ? [] : list(service(name).volumes, `${name}.volumes`)) {
      const source = str(v, 'volume').split(':')[0] ?? ''
      if (!source.startsWith('.') && !source.startsWith('/')) {
        assert.ok(source in volumes, `${name} uses undeclared volume ${source}`)
        used.add(source)
      }
    }
  }
  assert.deepEqual([...used].sort(), ['cache-data', 'db-data'])
  assert.ok(list(service('db').volumes, 'db.volumes').includes('db-data:/var/lib/postgresql/data'))
  assert.ok(list(service('cache').volumes, 'cache.volumes').includes('cache-data:/data'))
  const conf = read('cache/redis.conf')
  assert.match(conf, /^appendonly yes$/m)
  assert.match(conf, /^dir \/data$/m)
  const command = list(service('cache').command, 'cache.command').map(String)
  assert.ok(command.includes('/usr/local/etc/redis/redis.conf'))
  assert.ok(
    list(service('cache').volumes, 'cache.volumes').includes('./cache/redis.conf:/usr/local/etc/redis/redis.conf:ro')
  )
})

test('every service restarts, has limits, rotated logs and a stop grace period; web runs hardened', () => {
  for (const name of NAMES) {
    const s = service(name)
    assert.equal(s.restart, 'unless-stopped', `${name}.restart`)
    assert.ok(s.stop_grace_period !== undefined, `${name}.stop_grace_period`)
    const limits = obj(obj(obj(s.deploy, `${name}.deploy`).resources, 'resources').limits, 'limits')
    assert.ok(limits.memory !== undefined && limits.cpus !== undefined, `${name} has memory and cpu limits`)
    const logging = obj(s.logging, `${name}.logging`)
    const options = obj(logging.options, `${name}.logging.options`)
    assert.ok(options['max-size'] !== undefined && options['max-file'] !== undefined, `${name} rotates logs`)
  }
  const web = service('web')
  assert.equal(web.init, true, 'an init forwards signals to node')
  assert.equal(web.read_only, true)
  assert.ok(list(web.tmpfs, 'web.tmpfs').some((t) => String(t).startsWith('/tmp')))
  assert.deepEqual(web.cap_drop, ['ALL'])
})

test('web/Dockerfile: pinned base as a build argument, multi-stage, non-root, node as the process, HEALTHCHECK', () => {
  const text = read('web/Dockerfile').replace(/\\\n\s*/g, ' ')
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  const firstFrom = lines.findIndex((l) => /^FROM\s/i.test(l))
  const arg = lines.slice(0, firstFrom).find((l) => /^ARG NODE_IMAGE=/.test(l))
  assert.ok(arg, 'ARG NODE_IMAGE=... before the first FROM')
  assert.match(arg, /^ARG NODE_IMAGE=node:\d+\.\d+[-a-z0-9.]*$/, 'default is the official node image pinned to a minor')
  const froms = lines.filter((l) => /^FROM\s/i.test(l))
  assert.ok(froms.length >= 2, 'multi-stage')
  for (const f of froms)
    assert.match(f, /^FROM (\$\{NODE_IMAGE\}|[a-z-]+) AS [a-z-]+$/i, `FROM uses the build argument: ${f}`)
  const finalStage = text.slice(text.lastIndexOf('\nFROM '))
  const user = [...finalStage.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]).pop()
  assert.ok(user !== undefined && user !== 'root' && user !== '0', 'final stage runs as a non-root user')
  assert.match(finalStage, /^HEALTHCHECK .*\/livez/m)
  assert.match(finalStage, /^CMD \["node", "dist\/src\/server\.js"\]$/m, 'node is the process, not npm')
  assert.match(text, /npm ci --omit=dev/, 'runtime gets production dependencies only')
})

test('.env.example documents every variable compose.yaml reads, with no password in it', () => {
  const example = read('.env.example')
  const documented = new Map<string, string>()
  const lines = example.split('\n')
  lines.forEach((line, i) => {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line)
    if (m?.[1] === undefined) return
    // The line above is a comment, or another variable of the same commented block.
    let j = i - 1
    while (j >= 0 && /^[A-Z_][A-Z0-9_]*=/.test(lines[j] ?? '')) j--
    assert.match(lines[j] ?? '', /^#/, `${m[1]} has a comment above it`)
    documented.set(m[1], m[2] ?? '')
  })
  const used = new Set([...composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1] ?? ''))
  for (const name of used) assert.ok(documented.has(name), `${name} is documented in .env.example`)
  for (const [name, value] of documented) {
    if (/PASSWORD|SECRET|TOKEN/.test(name)) assert.equal(value, '', `${name} is empty in .env.example`)
  }
  assert.ok(documented.has('COMPOSE_PROJECT_NAME'))
})

test('.dockerignore keeps secrets, dependencies and build output out of the context', () => {
  const ignore = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
  for (const entry of ['**/node_modules', '**/dist', '.git', '**/.env'])
    assert.ok(ignore.includes(entry), `.dockerignore has ${entry}`)
})

test('run.sh: executable, down then up --build, --reset, either compose flavour, creates .env', () => {
  assert.ok((statSync(ROOT + 'run.sh').mode & 0o111) !== 0, 'run.sh is executable')
  const text = read('run.sh')
  assert.match(text, /down --volumes/)
  assert.match(text, /up -d --build/)
  assert.match(text, /--reset\)/)
  assert.match(text, /docker compose version/)
  assert.match(text, /docker-compose/)
  assert.match(text, /\.env\.example/)
  if (process.platform !== 'win32') {
    const r = spawnSync('bash', ['-n', ROOT + 'run.sh'], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
  }
})

const composeBin = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => existsSync(p))
test(
  'docker-compose accepts the file and refuses to run without the passwords',
  { skip: composeBin === undefined && 'docker-compose not installed' },
  () => {
    const bin = composeBin ?? 'docker-compose'
    const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' }
    // An empty --env-file: ignore any developer .env in the repository.
    const dir = mkdtempSync(join(tmpdir(), 'compose-config-'))
    try {
      const envFile = join(dir, 'empty.env')
      writeFileSync(envFile, '')
      const args = ['--env-file', envFile, '-f', ROOT + 'compose.yaml', 'config', '-q']
      const ok = spawnSync(bin, args, {
        encoding: 'utf8',
        env: { ...base, POSTGRES_PASSWORD: 'x', REDIS_PASSWORD: 'y' }
      })
      assert.equal(ok.status, 0, ok.stderr)
      const missing = spawnSync(bin, args, { encoding: 'utf8', env: base })
      assert.notEqual(missing.status, 0)
      assert.match(missing.stderr, /POSTGRES_PASSWORD is not set|REDIS_PASSWORD is not set/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
)
