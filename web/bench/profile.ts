/**
 * Summarises a V8 CPU profile (from `npm run bench -- --cpu-prof`): where the service's time went,
 * by function (self time) and by package.
 *
 *   node --import tsx bench/profile.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const [file, topArg] = process.argv.slice(2)
if (file === undefined) {
  process.stderr.write('usage: node --import tsx bench/profile.ts <file.cpuprofile> [top]\n')
  process.exit(2)
}
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map<number, number>()
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const total = [...self.values()].reduce((a, b) => a + b, 0)

function where(url: string): string {
  if (url === '') return '(native/vm)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg?.[1] !== undefined) return pkg[1]
  if (url.startsWith('node:')) return 'node core'
  const own = /\/(dist\/src\/.*)$/.exec(url)
  return own?.[1] ?? url
}

const fns = new Map<string, number>()
const pkgs = new Map<string, number>()
for (const [id, us] of self) {
  const node = byId.get(id)
  if (node === undefined) continue
  const { functionName, url, lineNumber } = node.callFrame
  const name = `${functionName || '(anonymous)'} ${where(url)}${url ? `:${lineNumber + 1}` : ''}`
  fns.set(name, (fns.get(name) ?? 0) + us)
  const group = url.includes('/dist/src/') ? 'service code' : where(url)
  pkgs.set(group, (pkgs.get(group) ?? 0) + us)
}
const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)} %`
process.stdout.write(`total sampled: ${(total / 1e6).toFixed(1)} s\n\nby package (self time):\n`)
for (const [k, v] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(v)}  ${k}\n`)
process.stdout.write('\nby function (self time):\n')
for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(v)}  ${k}\n`)
