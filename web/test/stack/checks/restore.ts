// The restore drill: data written through the proxy, ./run.sh --backup, ./run.sh --reset, then
// ./run.sh --restore brings back every row and the visit total, with Redis in line; damaged,
// foreign or too-new dumps are refused with nothing changed; a dump taken under load restores to
// a counter that agrees with its log; the scheduled backup service writes a dump and a status.
import { createHash } from 'node:crypto'
import { copyFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { report } from '../lib/report.js'
import { expect, get } from '../lib/json.js'
import { must, run, waitUntil, type RunResult } from '../lib/process.js'
import { getJson, jsonInit, visitsTotal } from '../http.js'
import { compose, runScript, runScriptAllowingFailure, stack, STAND_IN_IMAGES } from '../stack.js'
import { countsInPostgres, describe, load, psql, redisCli } from '../traffic.js'

const USERS = 40
const VISITS = 300
const KEY = 'restore-drill'

/** A fingerprint of every durable row: counts and md5 of each table in key order. */
async function fingerprint(): Promise<string> {
  return psql(
    [
      'SELECT (SELECT count(*) FROM users)',
      "(SELECT md5(coalesce(string_agg(u::text, '|' ORDER BY id), '')) FROM users u)",
      '(SELECT coalesce(sum(total), 0) FROM visit_counter)',
      '(SELECT count(*) FROM visits)',
      "(SELECT md5(coalesce(string_agg(v::text, '|' ORDER BY id), '')) FROM visits v)"
    ].join(', ')
  )
}

const seconds = (r: RunResult): string => `${(r.ms / 1000).toFixed(1)}s`

/** ./run.sh --backup: the file it wrote (relative to the copy), its size and how long it took. */
async function backup(): Promise<{ file: string; bytes: number; took: string }> {
  const r = await runScript(['--backup'], 120_000)
  const file = /^\s*File:\s+(\S+)/m.exec(r.stdout)?.[1] ?? ''
  expect(file !== '', `no file named in:\n${r.stdout}`)
  return { file, bytes: statSync(join(stack.workdir, file)).size, took: seconds(r) }
}

const restore = (file: string): Promise<RunResult> => runScriptAllowingFailure(['--restore', file, '--yes'], 300_000)

/** Writes FILE.sha256 as sha256sum would, so only pg_restore's own reading can refuse FILE. */
function writeChecksum(path: string): void {
  const sum = createHash('sha256').update(readFileSync(path)).digest('hex')
  writeFileSync(`${path}.sha256`, `${sum}  ${basename(path)}\n`)
}

/** The Redis visit counter agrees with PostgreSQL's total. */
async function redisAgrees(): Promise<string> {
  const pg = (await countsInPostgres()).total
  const cached = await redisCli('GET', 'visit_counter:homepage')
  expect(cached === String(pg), `Redis visit_counter:homepage = ${cached || '(none)'}, PostgreSQL total = ${pg}`)
  return `Redis counter ${cached} = PostgreSQL`
}

/** A refused restore: exit 1, the words the operator needs, and nothing changed. */
async function expectRefused(file: string, words: RegExp, before: string): Promise<string> {
  const r = await restore(file)
  const said = `${r.stdout}\n${r.stderr}`
  expect(r.code === 1, `exit ${r.code}, expected 1:\n${said.slice(-800)}`)
  expect(/refused/.test(r.stderr) && words.test(r.stderr), `the message does not say why:\n${r.stderr}`)
  expect(!/Stopping web/.test(said), 'web was stopped for a dump that should have been refused')
  expect((await fingerprint()) === before, 'the data changed')
  const health = await getJson('/health')
  expect(get(health, 'status') === 'healthy', `health after the refusal: ${JSON.stringify(health)}`)
  return r.stderr.split('\n')[0]?.replace(/^restore: refused: /, '') ?? ''
}

export async function checkRestore(): Promise<void> {
  const written = await report.phase(`write ${USERS} users, ${VISITS} visits and a key through the proxy`, async () => {
    for (let i = 0; i < USERS; i++)
      await getJson('/users', 201, jsonInit('POST', { username: `drill-${i}`, email: `drill-${i}@example.com` }))
    const visits = await load('/', 4, () => false, VISITS / 4)
    expect(visits.failed === 0, describe(visits))
    await getJson('/cache', 201, jsonInit('POST', { key: KEY, value: { kept: true }, ttl: 3600 }))
    return fingerprint()
  })
  const dump = await report.phase('./run.sh --backup', backup)
  report.log(`  dump ${dump.file}: ${dump.bytes} bytes in ${dump.took}`)

  await report.check('damaged, foreign and too-new dumps are refused, nothing changed', async () => {
    const path = join(stack.workdir, dump.file)
    const said: string[] = []
    // Truncated after its checksum was written: the checksum refuses it.
    const truncated = `${path.replace(/\.dump$/, '')}-truncated.dump`
    copyFileSync(path, truncated)
    copyFileSync(`${path}.sha256`, `${truncated}.sha256`)
    truncateSync(truncated, Math.floor(dump.bytes * 0.6))
    said.push(await expectRefused(truncated, /checksum/, written))
    // Truncated before its checksum was written: the table of contents is whole, the data is not.
    writeChecksum(truncated)
    said.push(await expectRefused(truncated, /truncated or corrupt|cannot read/, written))
    // One byte flipped in the data: near the end, inside the last table's compressed rows (the
    // visit log's); a flip in the table of contents can land in text that pg_restore accepts.
    const flipped = `${path.replace(/\.dump$/, '')}-flipped.dump`
    const bytes = readFileSync(path)
    const at = bytes.length - 200
    bytes[at] = (bytes[at] ?? 0) ^ 0xff
    writeFileSync(flipped, bytes)
    writeChecksum(flipped)
    said.push(await expectRefused(flipped, /cannot read|not a backup/, written))
    // Another database's dump (base64 through the pipe: the runner reads text).
    const foreign = join(stack.workdir, 'backups', 'foreign.dump')
    const script =
      'createdb -U "$POSTGRES_USER" foreign_db && psql -q -U "$POSTGRES_USER" -d foreign_db -c "CREATE TABLE notes (id int)" && pg_dump -Fc -U "$POSTGRES_USER" -d foreign_db | base64 -w0; dropdb -U "$POSTGRES_USER" foreign_db'
    const made = await must('a foreign dump', compose(['exec', '-T', 'db', 'sh', '-c', script], 60_000))
    writeFileSync(foreign, Buffer.from(made.stdout.trim(), 'base64'))
    writeChecksum(foreign)
    said.push(await expectRefused(foreign, /not a backup of this service/, written))
    // A dump whose schema is newer than the code: one migration this code does not know.
    await psql("INSERT INTO pgmigrations (name, run_on) VALUES ('9999999999999_from-the-future', now())")
    const future = await backup()
    await psql("DELETE FROM pgmigrations WHERE name = '9999999999999_from-the-future'")
    said.push(await expectRefused(future.file, /newer than this code/, written))
    return said.join('; ')
  })

  await report.phase('./run.sh --offline --reset (the data is gone)', async () => {
    await runScript(['--offline', '--reset'], 300_000)
    expect((await fingerprint()) !== written, 'the reset left the data as it was')
  })
  const restored = await report.phase('./run.sh --restore FILE --yes', async () => {
    const r = await restore(dump.file)
    expect(r.code === 0, `exit ${r.code}:\n${`${r.stdout}\n${r.stderr}`.slice(-1500)}`)
    return r
  })
  await report.check(
    'after reset + restore: every user row and the visit log identical, healthy, Redis in line',
    async () => {
      const now = await fingerprint()
      expect(now === written, `before the backup: ${written}\nafter the restore: ${now}`)
      const health = await getJson('/health')
      expect(get(health, 'status') === 'healthy', `health: ${JSON.stringify(health)}`)
      const agrees = await redisAgrees()
      const [users, , total, logged] = now.split(',')
      expect((await visitsTotal()) === Number(total), 'GET /visits disagrees with PostgreSQL')
      return `${users} users, ${total} visits, ${logged} log rows; backup ${dump.took}, restore ${seconds(restored)}; ${agrees}`
    }
  )

  await report.check('a backup taken under load restores to a counter that agrees with its log', async () => {
    await getJson('/cache', 201, jsonInit('POST', { key: KEY, value: { kept: true }, ttl: 3600 }))
    const before = await countsInPostgres()
    let stop = false
    const visits = load('/', 4, () => stop, 1500)
    await waitUntil('visits being counted', 30_000, async () =>
      (await countsInPostgres()).total >= before.total + 50 ? true : undefined
    )
    const taken = await backup().finally(() => {
      stop = true
    })
    const sent = await visits
    expect(sent.failed === 0, describe(sent))
    const r = await restore(taken.file)
    expect(r.code === 0, `restore exit ${r.code}:\n${`${r.stdout}\n${r.stderr}`.slice(-1500)}`)
    const after = await countsInPostgres()
    expect(after.total === after.logged, `counter ${after.total}, log ${after.logged}`)
    expect(
      after.total > before.total && after.total <= before.total + sent.ok,
      `restored total ${after.total}, before the load ${before.total}, acknowledged ${sent.ok}`
    )
    const agrees = await redisAgrees()
    const key = await getJson(`/cache/${KEY}`)
    expect(get(key, 'value', 'kept') === true, `the key/value entry did not survive: ${JSON.stringify(key)}`)
    return `${describe(sent)} during a ${taken.took} backup of ${taken.bytes} bytes; restored ${after.total} = log ${after.logged}; ${agrees}; key kept`
  })

  await report.check('the scheduled backup service writes a dump and a good status', async () => {
    const env = { ...STAND_IN_IMAGES, BACKUP_DIR: './backups-scheduled', BACKUP_SCHEDULE: '1h' }
    const profile = ['--profile', 'backup']
    await must('backup service up', compose([...profile, 'up', '-d', '--no-deps', 'backup'], 120_000, env))
    try {
      const status = await waitUntil('last-backup.status', 90_000, async () => {
        const text = await runScriptAllowingFailure(['--backup-status'], 60_000, env)
        return text.code === 0 ? text.stdout : undefined
      })
      expect(/last_outcome=ok/.test(status) && /backup status: ok/.test(status), status)
      const file = /last_file=(\S+)/.exec(status)?.[1] ?? ''
      const check = await run('sha256sum', ['-c', `${file}.sha256`], {
        cwd: join(stack.workdir, 'backups-scheduled'),
        timeoutMs: 30_000
      })
      expect(check.code === 0, `sha256sum -c: ${check.stdout} ${check.stderr}`)
      const size = /last_size_bytes=(\d+)/.exec(status)?.[1] ?? '?'
      return `${file}, ${size} bytes; --backup-status exits 0`
    } finally {
      await compose([...profile, 'rm', '-f', '-s', '-v', 'backup'], 60_000, env)
    }
  })
}
