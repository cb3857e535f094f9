// Redis asks every client for the password and persists (AOF); every service has memory and CPU
// limits, rotated logs and a restart policy.
import { expect, get } from '../lib/json.js'
import { must } from '../lib/process.js'
import { compose, containerOf, inspect } from '../stack.js'

export async function checkRedisAndLimits(): Promise<string> {
  const noauth = await compose(
    ['exec', '-T', 'cache', 'sh', '-c', 'env -u REDISCLI_AUTH redis-cli -h 127.0.0.1 ping'],
    30_000
  )
  expect(
    /NOAUTH|Authentication required/i.test(noauth.stdout + noauth.stderr),
    `unauthenticated PING answered: ${noauth.stdout.trim()}`
  )
  const aof = await must(
    'redis-cli config get appendonly',
    compose(['exec', '-T', 'cache', 'redis-cli', '-h', '127.0.0.1', 'config', 'get', 'appendonly'], 30_000)
  )
  expect(/appendonly\s+yes/.test(aof.stdout), `appendonly: ${aof.stdout.trim()}`)
  const limits: string[] = []
  for (const svc of ['db', 'cache', 'web']) {
    const c = await inspect(await containerOf(svc))
    const mem = get(c, 'HostConfig', 'Memory')
    const cpus = get(c, 'HostConfig', 'NanoCpus')
    const maxSize = get(c, 'HostConfig', 'LogConfig', 'Config', 'max-size')
    const restart = get(c, 'HostConfig', 'RestartPolicy', 'Name')
    expect(typeof mem === 'number' && mem > 0 && typeof cpus === 'number' && cpus > 0, `${svc} has no memory/cpu limit`)
    expect(typeof maxSize === 'string', `${svc} logs are not rotated`)
    expect(restart === 'unless-stopped', `${svc} restart policy ${String(restart)}`)
    limits.push(`${svc} ${Math.round(mem / 2 ** 20)}M/${cpus / 1e9}cpu`)
  }
  return `Redis refuses unauthenticated clients, appendonly yes; ${limits.join(', ')}`
}
