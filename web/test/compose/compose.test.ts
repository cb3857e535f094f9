// Static checks of the compose stack: compose.yaml, the development override
// compose.override.yaml, web/Dockerfile, .env.example, .dockerignore and run.sh.
// No engine needed (the end-to-end proof is test/stack/run-stack-test.ts);
// Compose's own parser checks both files too.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { Ajv2019 } from 'ajv/dist/2019.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
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
const NAMES = ['db', 'cache', 'web', 'proxy']
const overrideText = read('compose.override.yaml')
const override = obj(parse(overrideText) as Json, 'compose.override.yaml')

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

test('compose.yaml and compose.override.yaml are valid against the Compose schema (as docker-compose 1.29 ships it)', () => {
  const schema = JSON.parse(read('web/test/compose/fixtures/compose-spec.json')) as Record<string, unknown>
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
  for (const [name, doc] of [
    ['compose.yaml', compose],
    ['compose.override.yaml', override]
  ] as const)
    assert.ok(validate(doc), `${name}: schema errors: ${JSON.stringify(validate.errors, null, 2)}`)
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

test('the stack has exactly web, db, cache and proxy (and backup, off unless asked), each with a real health check', () => {
  const always = Object.keys(services).filter((name) => service(name).profiles === undefined)
  assert.deepEqual(always.sort(), [...NAMES].sort())
  assert.deepEqual(service('backup').profiles, ['backup'], 'scheduled backups run only with --profile backup')
  for (const name of [...NAMES, 'backup']) {
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
  assert.match(healthTest('proxy'), /\/proxyz/, "proxy check asks HAProxy's monitor URI")
  assert.match(healthTest('backup'), /scheduled\.sh.*health/, "backup check reads the last backup's outcome")
})

test('web waits until db and cache are healthy', () => {
  const deps = obj(service('web').depends_on, 'web.depends_on')
  assert.deepEqual(Object.keys(deps).sort(), ['cache', 'db'])
  for (const dep of ['db', 'cache']) {
    assert.equal(obj(deps[dep], `web.depends_on.${dep}`).condition, 'service_healthy')
  }
})

test('only the proxy publishes a port, and db, cache and web live on the internal network only', () => {
  assert.deepEqual(list(service('proxy').ports, 'proxy.ports'), ['${WEB_PORT:-8000}:8000'])
  for (const name of ['db', 'cache', 'web']) {
    assert.equal(service(name).ports, undefined, `${name} publishes no port`)
    assert.equal(service(name).network_mode, undefined)
    assert.deepEqual(list(service(name).networks, `${name}.networks`), ['backend'])
  }
  assert.deepEqual(list(service('proxy').networks, 'proxy.networks').map(String).sort(), ['backend', 'frontend'])
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

/** `${VAR:-default}` → [VAR, default]: an image that .env can replace, with its pinned default. */
function overridable(value: Json | undefined, what: string): [string, string] {
  const m = /^\$\{([A-Z_]+):-([^}]+)\}$/.exec(str(value, what))
  assert.ok(m?.[1] !== undefined && m[2] !== undefined, `${what} is \${VARIABLE:-default}`)
  return [m[1], m[2]]
}

test('images are pinned, each replaceable from .env, and web is built from web/Dockerfile', () => {
  const [dbVar, db] = overridable(service('db').image, 'db.image')
  const [cacheVar, cache] = overridable(service('cache').image, 'cache.image')
  assert.deepEqual([dbVar, cacheVar], ['POSTGRES_IMAGE', 'REDIS_IMAGE'])
  assert.match(db, /^postgres:(1[0-7])\.\d+(-[a-z0-9.]+)?$/, 'postgres pinned to a 17.x-or-older minor')
  assert.match(cache, /^redis:\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$/, 'redis pinned to a minor')
  const build = obj(service('web').build, 'web.build')
  assert.equal(build.context, '.')
  assert.equal(build.dockerfile, 'web/Dockerfile')
  const [nodeVar, node] = overridable(obj(build.args, 'web.build.args').NODE_IMAGE, 'web.build.args.NODE_IMAGE')
  assert.equal(nodeVar, 'NODE_IMAGE')
  const dockerfileDefault = /^ARG NODE_IMAGE=(\S+)$/m.exec(read('web/Dockerfile'))?.[1]
  assert.equal(node, dockerfileDefault, "the default is web/Dockerfile's own")
})

test("the image starts the service as `npm start` does, with the same Node flags (the benchmark's too)", () => {
  const start = (JSON.parse(read('web/package.json')) as { scripts: { start: string } }).scripts.start
  const cmd = /^CMD (\[.*\])$/m.exec(read('web/Dockerfile'))?.[1]
  assert.ok(cmd !== undefined, 'web/Dockerfile has an exec-form CMD')
  assert.deepEqual(JSON.parse(cmd), start.split(' '))
  assert.match(start, /^node --max-semi-space-size=\d+ dist\/src\/server\.js$/)
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
  assert.match(
    finalStage,
    /^CMD \["node", ("--[a-z-]+=\d+", )*"dist\/src\/server\.js"\]$/m,
    'node is the process, not npm'
  )
  assert.match(text, /npm ci --omit=dev/, 'runtime gets production dependencies only')
})

test('.env.example documents every variable compose.yaml and compose.override.yaml read, with no password', () => {
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
  const used = new Set([...(composeText + overrideText).matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1] ?? ''))
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

test('run.sh: checks the engine by its answer, pulls with ways out, --reset, --offline, --dev, creates .env', () => {
  for (const script of ['run.sh', 'offline/stand-ins.sh', 'deploy/update.sh', 'db/backup/restore.sh'])
    assert.ok((statSync(ROOT + script).mode & 0o111) !== 0, `${script} is executable`)
  const text = read('run.sh')
  assert.match(text, /down --volumes/)
  assert.match(text, /up -d --build/)
  for (const flag of ['--reset', '--offline', '--dev', '--update']) assert.match(text, new RegExp(`${flag}\\)`))
  assert.match(text, /docker compose version/)
  assert.match(text, /docker-compose/)
  assert.match(text, /\.env\.example/)
  // Docker 26's client exits 0 with empty output when no engine answers: run.sh reads the output.
  assert.match(text, /server=\$\(docker info --format '\{\{\.ServerVersion\}\}'/)
  assert.match(text, /\[ -z "\$server" \]/)
  assert.match(text, /offline\/stand-ins\.sh build/, '--offline uses the one recipe')
  assert.match(text, /-f compose\.yaml/, 'the production shape unless --dev')
  for (const script of ['run.sh', 'offline/stand-ins.sh', 'deploy/update.sh', 'db/backup/restore.sh']) {
    const r = spawnSync('bash', ['-n', ROOT + script], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
  }
})

test('compose.override.yaml: db and cache on loopback only, web reloads from read-only sources', () => {
  const services = obj(override.services, 'override services')
  assert.deepEqual(Object.keys(services).sort(), ['cache', 'db', 'web'])
  for (const [name, port] of [
    ['db', '5432'],
    ['cache', '6379']
  ] as const) {
    const s = obj(services[name], `override ${name}`)
    const ports = list(s.ports, `${name}.ports`).map((p) => str(p, 'port'))
    assert.equal(ports.length, 1)
    assert.match(ports[0] ?? '', new RegExp(`^127\\.0\\.0\\.1:\\$\\{DEV_[A-Z]+_PORT:-\\d+\\}:${port}$`))
    // An internal network publishes nothing: a non-internal one is needed besides.
    assert.deepEqual(list(s.networks, `${name}.networks`), ['backend', 'frontend'])
    assert.deepEqual(Object.keys(s).sort(), ['networks', 'ports'], `${name}: nothing else changes`)
  }
  const web = obj(services.web, 'override web')
  assert.equal(obj(web.build, 'web.build').target, 'build')
  assert.match(read('web/Dockerfile'), /^FROM deps AS build$/m, 'web/Dockerfile has the build stage')
  assert.equal(web.user, 'node')
  assert.deepEqual(list(web.command, 'web.command').slice(1, 2), ['watch'])
  assert.equal(obj(web.environment, 'web.environment').NODE_ENV, 'development')
  const mounts = list(web.volumes, 'web.volumes').map((v) => str(v, 'volume'))
  assert.ok(mounts.includes('./web/src:/app/web/src:ro'))
  assert.ok(
    mounts.every((m) => m.endsWith(':ro')),
    'sources are mounted read-only'
  )
  assert.equal(web.ports, undefined, 'web publishes no port: the proxy is the way in')
  assert.doesNotMatch(overrideText, /PASSWORD|TOKEN|SECRET/, 'no secret in the override')
})

/** The Compose that run.sh would use: the v2 plugin, or docker-compose. */
function composeCommand(): string[] {
  const clients = ['/usr/bin/docker', 'docker']
  for (const docker of clients) {
    if (spawnSync(docker, ['compose', 'version'], { encoding: 'utf8' }).status === 0) return [docker, 'compose']
  }
  assert.equal(spawnSync('docker-compose', ['version']).status, 0, 'Docker Compose is installed (.ci/run shows how)')
  return ['docker-compose']
}

test('Compose accepts both shapes, merges the override as intended, and refuses to run without the passwords', () => {
  const [bin = 'docker-compose', ...pre] = composeCommand()
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' }
  // An empty --env-file: ignore any developer .env in the repository.
  const dir = mkdtempSync(join(tmpdir(), 'compose-config-'))
  try {
    const envFile = join(dir, 'empty.env')
    writeFileSync(envFile, '')
    const config = (files: string[], env: Record<string, string>) =>
      spawnSync(bin, [...pre, '--env-file', envFile, ...files.flatMap((f) => ['-f', ROOT + f]), 'config'], {
        encoding: 'utf8',
        env: { ...base, ...env }
      })
    const secrets = { POSTGRES_PASSWORD: 'x', REDIS_PASSWORD: 'y' }
    const prod = config(['compose.yaml'], secrets)
    assert.equal(prod.status, 0, prod.stderr)
    const prodServices = obj(obj(parse(prod.stdout) as Json, 'config').services, 'services')
    assert.equal(obj(prodServices.db, 'db').ports, undefined, 'production: db publishes nothing')
    const dev = config(['compose.yaml', 'compose.override.yaml'], secrets)
    assert.equal(dev.status, 0, dev.stderr)
    const devServices = obj(obj(parse(dev.stdout) as Json, 'config').services, 'services')
    const published = list(obj(devServices.db, 'db').ports, 'db.ports').map((p) => JSON.stringify(p))
    assert.ok(
      published.some((p) => p.includes('127.0.0.1') && p.includes('5432')),
      `db ports: ${published.join()}`
    )
    const devWeb = obj(devServices.web, 'web')
    assert.equal(devWeb.read_only, true, 'the override keeps the hardening of compose.yaml')
    assert.deepEqual(devWeb.cap_drop, ['ALL'])
    const missing = config(['compose.yaml'], {})
    assert.notEqual(missing.status, 0)
    assert.match(missing.stderr, /POSTGRES_PASSWORD is not set|REDIS_PASSWORD is not set/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
