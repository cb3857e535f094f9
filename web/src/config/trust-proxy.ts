import { isIP } from 'node:net'

type Env = Record<string, string | undefined>

/** The names proxy-addr (Fastify's trustProxy) knows for ranges of addresses. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

function isAddressOrRange(entry: string): boolean {
  if (RANGE_NAMES.has(entry)) return true
  const [address = '', bits, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (bits === undefined) return true
  if (!/^\d{1,3}$/.test(bits)) return false
  return Number(bits) <= (family === 4 ? 32 : 128)
}

/**
 * TRUST_PROXY: the peers whose X-Forwarded-For is believed, as addresses, CIDR ranges or the names
 * loopback, linklocal, uniquelocal (comma-separated). Empty or `false`: none, so the client's
 * address is always the connection's. `true` (trust anyone) is refused: any client could then
 * choose the address it is rate-limited and logged under.
 */
export function readTrustProxy(env: Env, fail: (message: string) => Error): string[] | false {
  const raw = (env.TRUST_PROXY ?? '').trim()
  if (raw === '' || raw.toLowerCase() === 'false') return false
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const bad = entries.find((entry) => !isAddressOrRange(entry))
  if (bad !== undefined)
    throw fail(
      `TRUST_PROXY must list addresses, CIDR ranges or loopback, linklocal, uniquelocal (comma-separated), got "${bad}"`
    )
  return entries
}
