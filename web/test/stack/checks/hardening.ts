// web runs as a non-root user, on a read-only root filesystem with a writable /tmp, with node
// itself as the service process (not npm), under an init.
import { expect, get } from '../lib/json.js'
import { must } from '../lib/process.js'
import { compose, containerOf, inspect } from '../stack.js'

const PROBE = [
  "const fs=require('fs');",
  'const out={uid:process.getuid()};',
  "try{fs.writeFileSync('/app/web/x','1');out.app='writable'}catch(e){out.app=e.code}",
  "try{fs.writeFileSync('/tmp/x','1');fs.unlinkSync('/tmp/x');out.tmp='writable'}catch(e){out.tmp=e.code}",
  "out.pid1=fs.readFileSync('/proc/1/cmdline','utf8').split('\\0').join(' ').trim();",
  "out.procs=fs.readdirSync('/proc').filter(p=>/^\\d+$/.test(p)).map(p=>{try{return fs.readFileSync('/proc/'+p+'/cmdline','utf8').split('\\0').join(' ').trim()}catch{return ''}}).filter(Boolean);",
  'console.log(JSON.stringify(out))'
].join('')

export async function checkHardening(): Promise<string> {
  const c = await inspect(await containerOf('web'))
  expect(get(c, 'HostConfig', 'ReadonlyRootfs') === true, 'root filesystem is writable')
  expect(get(c, 'HostConfig', 'Init') === true, 'no init process')
  const r = await must('exec in web', compose(['exec', '-T', 'web', 'node', '-e', PROBE], 30_000))
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as unknown
  const uid = get(out, 'uid')
  expect(typeof uid === 'number' && uid !== 0, `runs as uid ${String(uid)}`)
  expect(get(out, 'app') === 'EROFS', `writing under /app/web: ${String(get(out, 'app'))}`)
  expect(get(out, 'tmp') === 'writable', `writing to /tmp: ${String(get(out, 'tmp'))}`)
  const procs = get(out, 'procs')
  expect(Array.isArray(procs), 'no process list')
  expect(
    procs.some((p) => typeof p === 'string' && /^node (--\S+ )*dist\/src\/server\.js$/.test(p)),
    `no "node [flags] dist/src/server.js" process: ${JSON.stringify(procs)}`
  )
  expect(!procs.some((p) => typeof p === 'string' && /\bnpm\b/.test(p) && !/node -e/.test(p)), 'npm is running')
  return `uid ${String(uid)}, /app read-only (EROFS), /tmp writable, PID 1: ${String(get(out, 'pid1'))}`
}
