// A second host on the same machine: a Docker engine in a network namespace of its own, joined to
// the test's swarm as a worker over a veth pair. The manager advertises the host end of the pair,
// so Swarm's control, gossip and overlay traffic between the two engines crosses a real link, as
// between two machines. The worker has no way out (no route, no NAT): it pulls nothing, the test
// copies it the images it runs.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { docker, DOCKER, PATH } from '../engine.js'
import { must, run, sleep, waitUntil } from '../lib/process.js'
import { lines, type Docker } from './cluster.js'

export const NETNS = 'wdcsw'
const HOST_IF = 'wdcsw-host'
const NODE_IF = 'wdcsw-node'
/** From 198.18.0.0/15, the range set aside for benchmarks between networks: no real network's. */
const SUBNET = { base: '198.18.7.0', bits: 24 }
export const MANAGER_ADDR = '198.18.7.1'
export const WORKER_ADDR = '198.18.7.2'
/** Exec-root, pid file and socket: short, as a unix socket's path has at most 107 bytes. */
const RUN_DIR = '/run/wdcsw'
/** Data-root and the engine's log. */
const DATA_DIR = '/var/tmp/wdcsw'
const SOCKET = `${RUN_DIR}/d.sock`
const LOG = `${DATA_DIR}/dockerd.log`

const env = { ...process.env, PATH }
const ip = (args: string[]): ReturnType<typeof run> => run('ip', args, { timeoutMs: 20_000, env })

/** The docker client for the worker's engine. */
export const onWorker: Docker = (args, timeoutMs = 60_000) =>
  run(DOCKER, ['-H', `unix://${SOCKET}`, ...args], { timeoutMs, env })

const toInt = (addr: string): number => addr.split('.').reduce((n, o) => n * 256 + Number(o), 0) >>> 0

function overlaps(cidr: string): boolean {
  const [addr = '', bits = '32'] = cidr.split('/')
  const b = Math.min(Number(bits), SUBNET.bits)
  const mask = b === 0 ? 0 : (~0 << (32 - b)) >>> 0
  return (toInt(addr) & mask) >>> 0 === (toInt(SUBNET.base) & mask) >>> 0
}

/**
 * The namespace and the veth pair, addressed; refuses when the subnet is already routed here, since
 * taking it could cut the machine off a network it uses.
 */
export async function createLink(): Promise<string> {
  if (process.getuid?.() !== 0) throw new Error('a second engine in a network namespace needs root')
  const routes = await must('ip route', ip(['route', 'show', 'table', 'all']))
  const taken = lines(routes.stdout)
    .map((l) => l.split(' ').filter((w) => !['local', 'broadcast', 'unicast'].includes(w))[0] ?? '')
    .filter((dest) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dest) && overlaps(dest))
  if (taken.length > 0)
    throw new Error(
      `refusing to use ${SUBNET.base}/${SUBNET.bits} for the second engine: this machine already routes ${taken.join(', ')}`
    )
  const steps = [
    ['netns', 'add', NETNS],
    ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NODE_IF],
    ['link', 'set', NODE_IF, 'netns', NETNS],
    ['addr', 'add', `${MANAGER_ADDR}/${SUBNET.bits}`, 'dev', HOST_IF],
    ['link', 'set', HOST_IF, 'up'],
    ['-n', NETNS, 'addr', 'add', `${WORKER_ADDR}/${SUBNET.bits}`, 'dev', NODE_IF],
    ['-n', NETNS, 'link', 'set', NODE_IF, 'up'],
    ['-n', NETNS, 'link', 'set', 'lo', 'up']
  ]
  for (const s of steps) await must(`ip ${s.join(' ')}`, ip(s))
  return `namespace ${NETNS}: ${HOST_IF} ${MANAGER_ADDR} <-> ${NODE_IF} ${WORKER_ADDR}`
}

/**
 * Starts dockerd inside the namespace. nsenter, not `ip netns exec`: the latter remounts /sys,
 * and dockerd then finds no devices cgroup.
 */
export async function startWorker(): Promise<string> {
  mkdirSync(RUN_DIR, { recursive: true })
  mkdirSync(DATA_DIR, { recursive: true })
  const fd = openSync(LOG, 'a')
  const dockerd = existsSync('/usr/sbin/dockerd') ? '/usr/sbin/dockerd' : 'dockerd'
  const args = [`--net=/var/run/netns/${NETNS}`, dockerd, '--data-root', `${DATA_DIR}/data`]
  args.push('--exec-root', `${RUN_DIR}/x`, '--pidfile', `${RUN_DIR}/pid`, '-H', `unix://${SOCKET}`, '--bridge', 'none')
  const child = spawn('nsenter', args, { detached: true, stdio: ['ignore', fd, fd], env })
  closeSync(fd)
  child.unref()
  const version = await waitUntil('the second dockerd answering', 60_000, async () => {
    if (child.exitCode !== null)
      throw new Error(`the second dockerd exited with ${child.exitCode}: ${readFileSync(LOG, 'utf8').slice(-800)}`)
    const v = (await onWorker(['info', '--format', '{{.ServerVersion}}'], 5000)).stdout.trim()
    return v === '' ? undefined : v
  })
  return `dockerd ${version} (pid ${child.pid}) in ${NETNS}`
}

/** `docker save | docker load` into the worker: it has no registry to pull from. */
export async function copyImages(images: string[]): Promise<string> {
  const script = 'set -o pipefail; "$0" save "$@" | "$0" -H "unix://$SOCKET" load -q'
  await must(
    'docker save | docker load (worker)',
    run('bash', ['-c', script, DOCKER, ...images], { timeoutMs: 300_000, env: { ...env, SOCKET } })
  )
  return images.join(', ')
}

/** Joins the worker and waits until the manager sees it ready; its node id. */
export async function joinWorker(): Promise<string> {
  const token = (await must('join token', docker(['swarm', 'join-token', '-q', 'worker']))).stdout.trim()
  await must(
    'docker swarm join (worker)',
    onWorker(['swarm', 'join', '--advertise-addr', WORKER_ADDR, '--token', token, `${MANAGER_ADDR}:2377`], 60_000)
  )
  const id = (await onWorker(['info', '--format', '{{.Swarm.NodeID}}'])).stdout.trim()
  return waitUntil('the worker node ready', 60_000, async () => {
    const state = (await docker(['node', 'inspect', '-f', '{{.Status.State}}', id])).stdout.trim()
    return state === 'ready' ? id : undefined
  })
}

/** Nodes of the manager's swarm that sit at the worker's address: this test's, now or from an earlier run. */
async function workerNodes(): Promise<string[]> {
  if ((await docker(['info', '--format', '{{.Swarm.ControlAvailable}}'], 20_000)).stdout.trim() !== 'true') return []
  const ids = lines((await docker(['node', 'ls', '-q'], 20_000)).stdout)
  if (ids.length === 0) return []
  const r = await docker(['node', 'inspect', '-f', '{{.ID}} {{.Status.Addr}}', ...ids], 20_000)
  return lines(r.stdout)
    .map((l) => l.split(' '))
    .filter(([, addr]) => addr === WORKER_ADDR)
    .map(([id = '']) => id)
}

/** Processes of the worker's engine: dockerd, its containerd and the shims, named by the exec-root. */
function workerProcesses(): Array<{ pid: number; cmd: string }> {
  const out = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
      if (cmd.includes(`${RUN_DIR}/`) && !/^(ip|umount|rm) /.test(cmd)) out.push({ pid: Number(entry), cmd })
    } catch {
      // gone meanwhile
    }
  }
  return out
}

const mountsUnder = (): string[] =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => [RUN_DIR, DATA_DIR].some((d) => m === d || m.startsWith(`${d}/`)))

const netnsListed = async (): Promise<boolean> =>
  lines((await ip(['netns', 'list'])).stdout).some((l) => l.split(' ')[0] === NETNS)

const linkExists = async (): Promise<boolean> => (await ip(['link', 'show', HOST_IF])).code === 0

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig)
    } catch {
      // already gone
    }
  }
}

/** Takes the worker apart, whatever state a run left it in; safe to call when there is none. */
export async function removeWorker(log: (msg: string) => void): Promise<void> {
  if (existsSync(SOCKET)) await onWorker(['swarm', 'leave', '--force'], 30_000)
  for (const id of await workerNodes()) {
    log(`removing the worker node ${id.slice(0, 12)} from the swarm`)
    await docker(['node', 'rm', '--force', id], 30_000)
  }
  let procs = workerProcesses()
  if (procs.length > 0) {
    log(`stopping the second engine (pids ${procs.map((p) => p.pid).join(' ')})`)
    signal(
      procs.filter((p) => p.cmd.includes('dockerd')).map((p) => p.pid),
      'SIGTERM'
    )
    for (let i = 0; i < 60 && workerProcesses().some((p) => p.cmd.includes('dockerd')); i++) await sleep(500)
    procs = workerProcesses()
    signal(
      procs.map((p) => p.pid),
      'SIGKILL'
    )
    for (let i = 0; i < 20 && workerProcesses().length > 0; i++) await sleep(250)
  }
  // Deepest first: a namespace file or an overlay mount of the engine may sit inside another.
  for (const m of mountsUnder().sort((a, b) => b.length - a.length))
    await run('umount', ['-l', m], { timeoutMs: 20_000, env })
  rmSync(RUN_DIR, { recursive: true, force: true })
  rmSync(DATA_DIR, { recursive: true, force: true })
  if (await netnsListed()) await ip(['netns', 'del', NETNS])
  if (await linkExists()) await ip(['link', 'del', HOST_IF])
}

/** What is left of the worker, as "kind name" strings. */
export async function workerLeftovers(): Promise<string[]> {
  const out: string[] = []
  for (const id of await workerNodes()) out.push(`worker node ${id}`)
  for (const p of workerProcesses()) out.push(`process ${p.pid} (${p.cmd.slice(0, 60)})`)
  for (const m of mountsUnder()) out.push(`mount ${m}`)
  for (const d of [RUN_DIR, DATA_DIR]) if (existsSync(d)) out.push(`folder ${d}`)
  if (await netnsListed()) out.push(`network namespace ${NETNS}`)
  if (await linkExists()) out.push(`veth ${HOST_IF}`)
  return out
}
