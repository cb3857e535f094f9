// The routes under load, with the goals they are held to, and the data they need beforehand.

export type Kind = 'ceiling' | 'cached-read' | 'read' | 'visit' | 'write'

export interface Route {
  name: string
  target: 'ceiling' | 'service'
  method: 'GET' | 'POST'
  path: string
  body?: string
  headers?: Record<string, string>
  kind: Kind
  /** Ratio to the ceiling the route is held to. */
  goal?: number
}

const BENCH_KEY = 'bench-key'

export const ROUTES: Route[] = [
  { name: 'hello world (ceiling)', target: 'ceiling', method: 'GET', path: '/', kind: 'ceiling' },
  {
    name: 'GET /cache/:key',
    target: 'service',
    method: 'GET',
    path: `/cache/${BENCH_KEY}`,
    kind: 'cached-read',
    goal: 0.7
  },
  { name: 'GET /users', target: 'service', method: 'GET', path: '/users', kind: 'cached-read', goal: 0.7 },
  { name: 'GET /users/:id', target: 'service', method: 'GET', path: '/users/1', kind: 'cached-read', goal: 0.7 },
  { name: 'GET /visits', target: 'service', method: 'GET', path: '/visits', kind: 'cached-read', goal: 0.7 },
  {
    name: 'GET / (durable visit)',
    target: 'service',
    method: 'GET',
    path: '/',
    kind: 'visit',
    goal: 0.35,
    headers: { accept: 'application/json' }
  },
  {
    name: 'POST /cache',
    target: 'service',
    method: 'POST',
    path: '/cache',
    kind: 'write',
    body: JSON.stringify({ key: 'bench-post', value: { n: 1, tags: ['a', 'b'] }, ttl: 600 }),
    headers: { 'content-type': 'application/json' }
  },
  { name: 'GET /health', target: 'service', method: 'GET', path: '/health', kind: 'read', goal: 0.6 }
]

/** Cached reads (served from the near cache) must answer within this at the 99th percentile. */
export const P99_LIMIT_MS = 5
/** The service's peak resident memory under load must stay below this. */
export const RSS_LIMIT_MB = 150

/** The routes named by --only (by name or path), and always the ceiling. */
export function selectRoutes(only: string[] | undefined): Route[] {
  return ROUTES.filter(
    (r) => r.kind === 'ceiling' || only === undefined || only.includes(r.name) || only.includes(r.path)
  )
}

/** The key read by GET /cache/:key. */
export async function putFixtures(serviceUrl: string): Promise<void> {
  const put = await fetch(`${serviceUrl}/cache`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: BENCH_KEY, value: { hello: 'world', n: 42 }, ttl: 3600 })
  })
  if (put.status !== 201) throw new Error(`POST /cache answered ${put.status}: ${await put.text()}`)
}
