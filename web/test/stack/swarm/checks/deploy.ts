// What `./run.sh --swarm` must leave running: every task healthy, web replicated behind the proxy
// with the update policy of deploy/swarm.yaml, db and cache on the data node, passwords as secrets.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { report } from '../../lib/report.js'
import { expect, get } from '../../lib/json.js'
import { must } from '../../lib/process.js'
import { docker } from '../../engine.js'
import { stack } from '../../stack.js'
import {
  DATA_LABEL,
  REPLICAS,
  STACK,
  STACK_LABEL,
  containersOf,
  visitsExact,
  hostsSeen,
  lines,
  runningTasks,
  serviceSpec,
  services
} from '../cluster.js'

/** The passwords ./run.sh wrote into the copy's .env. */
function passwords(): string[] {
  const env = readFileSync(join(stack.workdir, '.env'), 'utf8')
  const found = ['POSTGRES_PASSWORD', 'REDIS_PASSWORD'].map((k) => new RegExp(`^${k}=(.+)$`, 'm').exec(env)?.[1] ?? '')
  expect(
    found.every((p) => p.length >= 16),
    '.env has no generated passwords'
  )
  return found
}

export async function checkDeployed(): Promise<void> {
  await report.check(`every service healthy; web has ${REPLICAS} replicas`, async () => {
    const all = await services()
    expect(all.get('web')?.startsWith(`${REPLICAS}/${REPLICAS}`) === true, `web: ${all.get('web')}`)
    for (const name of ['db', 'cache', 'proxy'])
      expect(all.get(name)?.startsWith('1/1') === true, `${name}: ${all.get(name)}`)
    return [...all].map(([k, v]) => `${k} ${v}`).join(', ')
  })

  await report.check('web: dnsrr, start-first updates that roll back on failure, restart policy', async () => {
    const spec = await serviceSpec('web')
    const mode = get(spec, 'Spec', 'EndpointSpec', 'Mode')
    const update = get(spec, 'Spec', 'UpdateConfig')
    const rollback = get(spec, 'Spec', 'RollbackConfig')
    const restart = get(spec, 'Spec', 'TaskTemplate', 'RestartPolicy', 'Condition')
    expect(mode === 'dnsrr', `endpoint mode ${String(mode)}`)
    expect(get(update, 'Order') === 'start-first', `update order ${String(get(update, 'Order'))}`)
    expect(get(update, 'FailureAction') === 'rollback', `failure action ${String(get(update, 'FailureAction'))}`)
    expect(Number(get(update, 'Monitor')) > 0, 'no update monitor period')
    expect(get(rollback, 'Order') === 'start-first', 'rollback order')
    expect(restart === 'any', `restart condition ${String(restart)}`)
    return `dnsrr; update ${JSON.stringify(update)}; restart ${String(restart)}`
  })

  await report.check(`db and cache run on the node labelled ${DATA_LABEL}=true; backend is internal`, async () => {
    const labelled = lines(
      (await must('labelled nodes', docker(['node', 'ls', '-q', '--filter', `node.label=${DATA_LABEL}=true`]))).stdout
    )
    expect(labelled.length === 1, `nodes with the label: ${labelled.length}`)
    for (const name of ['db', 'cache']) {
      const tasks = await runningTasks(name)
      expect(tasks.length === 1, `${name}: ${tasks.length} running tasks`)
      expect(labelled[0]?.startsWith(tasks[0]?.node ?? '?') === true, `${name} runs on ${tasks[0]?.node}`)
    }
    const backend = await must('backend network', docker(['network', 'inspect', `${STACK}_backend`]))
    expect(/"Internal": true/.test(backend.stdout), 'the backend network is not internal')
    return `node ${labelled[0]?.slice(0, 12)}`
  })

  await report.check(`requests through the proxy reach all ${REPLICAS} replicas (by hostname in /health)`, async () => {
    const tasks = await runningTasks('web')
    const seen = await hostsSeen(60)
    expect(seen.size === REPLICAS, `hosts: ${JSON.stringify([...seen])}`)
    for (const host of seen.keys())
      expect(
        tasks.some((t) => t.container.startsWith(host)),
        `${host} is not one of the web tasks' containers`
      )
    return `60 requests: ${[...seen.values()].join('/')}`
  })

  await report.check('visits counted through the proxy over all replicas are exact in PostgreSQL', visitsExact)

  await report.check(
    'passwords are Docker secrets: none in docker inspect nor in any process environment',
    async () => {
      const secrets = passwords()
      const ids: string[] = []
      for (const name of ['db', 'cache', 'web', 'proxy']) ids.push(...(await containersOf(name)))
      const svc = lines((await must('services', docker(['service', 'ls', '-q', '--filter', STACK_LABEL]))).stdout)
      const inspected = (await must('inspect', docker(['inspect', ...ids, ...svc]))).stdout
      for (const p of secrets) expect(!inspected.includes(p), 'a password appears in docker inspect')
      // Every process of web and cache (the images this project starts itself).
      for (const name of ['web', 'cache']) {
        for (const id of await containersOf(name)) {
          const env = await docker(['exec', id, 'sh', '-c', 'cat /proc/[0-9]*/environ | tr "\\0" "\\n"'], 20_000)
          expect(env.stdout.includes('_FILE=/run/secrets/'), `${name}: could not read its environment`)
          for (const p of secrets) expect(!env.stdout.includes(p), `a password is in the environment of ${name}`)
        }
      }
      const listed = (await must('secrets', docker(['secret', 'ls', '--format', '{{.Name}}']))).stdout
      expect(listed.includes(`${STACK}_postgres_password`) && listed.includes(`${STACK}_redis_password`), listed)
      return `${ids.length} containers and ${svc.length} services inspected; secrets ${STACK}_postgres_password, ${STACK}_redis_password`
    }
  )
}
