// Two hosts: a second engine joins as a worker, web spreads over both nodes, the proxy (on the
// manager) reaches the replicas on the other node through the overlay network, visits stay exact,
// and a rolling update across both nodes under load fails no request.
import { report } from '../../lib/report.js'
import { expect, get } from '../../lib/json.js'
import { docker } from '../../engine.js'
import { must, waitUntil } from '../../lib/process.js'
import {
  WEB,
  allConverged,
  replicasAnswering,
  runningTasks,
  serviceSpec,
  updateWeb,
  visitsExact,
  webImage
} from '../cluster.js'
import { copyImages, joinWorker, startWorker } from '../worker.js'
import { expectNoLoss, underLoad } from './updates.js'

/** One more than the manager alone runs, so the scheduler's spreading puts one on the worker. */
const REPLICAS_ON_TWO = 4

const short = (id: string): string => id.slice(0, 12)

/** The nodes running web tasks, and each task's container hostname (its id's first 12). */
async function webByNode(): Promise<{ nodes: Set<string>; hostNode: Map<string, string> }> {
  const tasks = await runningTasks('web')
  return {
    nodes: new Set(tasks.map((t) => t.node)),
    hostNode: new Map(tasks.map((t) => [short(t.container), t.node]))
  }
}

function onBoth(nodes: Set<string>, manager: string, worker: string): string {
  expect(nodes.has(manager) && nodes.has(worker), `web runs on ${[...nodes].map(short).join(', ')}`)
  return `manager ${short(manager)} and worker ${short(worker)}`
}

export async function checkTwoHosts(): Promise<void> {
  const manager = (await must('node id', docker(['info', '--format', '{{.Swarm.NodeID}}']))).stdout.trim()
  const worker = await report.phase('a second engine in its own network namespace joins as a worker', async () => {
    // A rollout still going on (the deploy before) would change the image under the copy.
    await waitUntil('no update of web in progress', 300_000, async () => {
      const state = get(await serviceSpec('web'), 'UpdateStatus', 'State')
      return typeof state === 'string' && /updating|rollback_started/.test(state) ? undefined : true
    })
    report.log(`  ${await startWorker()}`)
    // Only web can be placed there: db and cache are on the labelled node, the proxy on a manager.
    // Every tag of the image: the service may name it by any of them.
    const image = await webImage()
    const tags = await must('image tags', docker(['image', 'inspect', '-f', '{{join .RepoTags " "}}', image]))
    report.log(`  images copied to the worker: ${await copyImages(tags.stdout.trim().split(' '))}`)
    return joinWorker()
  })

  await report.check(`web scaled to ${REPLICAS_ON_TWO}: replicas running on both nodes`, async () => {
    await must(
      'docker service update --replicas',
      docker(['service', 'update', '--detach', '--replicas', String(REPLICAS_ON_TWO), WEB])
    )
    const converged = await allConverged(180_000)
    const { nodes, hostNode } = await webByNode()
    expect(hostNode.size === REPLICAS_ON_TWO, `${hostNode.size} running web tasks`)
    return `${onBoth(nodes, manager, worker)}; ${converged}`
  })

  await report.check('requests through the proxy reach the replicas on both nodes', async () => {
    const { hostNode } = await webByNode()
    const seen = await replicasAnswering(REPLICAS_ON_TWO)
    const nodes = new Set<string>()
    for (const host of seen.keys()) {
      const node = hostNode.get(host)
      expect(node !== undefined, `${host} is not one of the web tasks' containers`)
      nodes.add(node)
    }
    expect(seen.size === REPLICAS_ON_TWO, `hosts: ${JSON.stringify([...seen])}`)
    return `${REPLICAS_ON_TWO * 8} requests: ${[...seen.values()].join('/')}; ${onBoth(nodes, manager, worker)}`
  })

  await report.check('visits counted over both nodes are exact in PostgreSQL', visitsExact)

  await report.check(
    'rolling update (service update --force) across both nodes under load: no failed request, visits exact',
    async () => {
      const { value, load: u } = await underLoad(() => updateWeb(['--force'], 300_000))
      const summary = expectNoLoss('two hosts, update --force', u, value, 'completed')
      return `${summary}; after it, ${onBoth((await webByNode()).nodes, manager, worker)}`
    }
  )
}
