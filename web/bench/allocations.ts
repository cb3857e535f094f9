/**
 * Where the service allocates while serving one route: the app runs in this process on private
 * PostgreSQL and Redis, the benchmark's load generator loads it from a process of its own, and
 * V8's sampling heap profiler counts every allocation, kept or collected, by the function that
 * made it. Garbage is a large share of a cached read's cost (docs/benchmarks.md, "Where the time
 * goes").
 *
 *   node --import tsx bench/allocations.ts [path=/cache/bench-key] [seconds=6] [top=25]
 */
import { Session } from 'node:inspector/promises'
import { startStack } from '../test/helpers/index.js'
import { runLoad } from './processes/load.js'
import { ROUTES, putFixtures } from './scenarios/routes.js'

interface SampledNode {
  callFrame: { functionName: string; url: string; lineNumber: number }
  selfSize: number
  children: SampledNode[]
}

const cachedRead = ROUTES.find((route) => route.name === 'GET /cache/:key')?.path
const [path = cachedRead ?? '/', secondsArg = '6', topArg = '25'] = process.argv.slice(2)

/** Requests answered in `seconds` of load at 32 connections, from the benchmark's load generator. */
async function load(url: string, seconds: number): Promise<number> {
  const result = await runLoad({ urls: [url], method: 'GET', connections: 32, durationS: seconds, warmupS: 0 })
  return result.totalRequests
}

const where = (node: SampledNode): string => {
  const file = node.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/web\//, '')
  return `${node.callFrame.functionName || '(anonymous)'} ${file}:${node.callFrame.lineNumber + 1}`
}

const stack = await startStack({ LOG_LEVEL: 'warn' })
const session = new Session()
try {
  await putFixtures(stack.url)
  await load(stack.url + path, 3) // warm-up: compiled code, filled caches
  session.connect()
  await session.post('HeapProfiler.enable')
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true
  })
  const requests = await load(stack.url + path, Number(secondsArg))
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SampledNode } }
  const bytes = new Map<string, number>()
  let total = 0
  const visit = (node: SampledNode): void => {
    const site = where(node)
    total += node.selfSize
    bytes.set(site, (bytes.get(site) ?? 0) + node.selfSize)
    node.children.forEach(visit)
  }
  visit(profile.head)
  console.log(`GET ${path}: ${requests} requests, ${Math.round(total / requests)} bytes allocated per request`)
  for (const [name, size] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) {
    console.log(`${String(Math.round(size / requests)).padStart(7)} B  ${name}`)
  }
} finally {
  session.disconnect()
  await stack.close()
}
