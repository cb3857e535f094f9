// db and cache are reachable from web only: no host port, only on the internal backend network,
// and their names do not even resolve from the frontend network.
import { expect, get, isRecord } from '../lib/json.js'
import { must } from '../lib/process.js'
import { docker } from '../engine.js'
import { containerOf, inspect, networkOf } from '../stack.js'

export async function checkIsolation(): Promise<string> {
  const backend = await networkOf('backend')
  const frontend = await networkOf('frontend')
  const internal = await must('network inspect', docker(['network', 'inspect', '--format', '{{.Internal}}', backend]))
  expect(internal.stdout.trim() === 'true', 'backend network is not internal')
  const backendName = (
    await must('network name', docker(['network', 'inspect', '--format', '{{.Name}}', backend]))
  ).stdout.trim()
  for (const svc of ['db', 'cache']) {
    const c = await inspect(await containerOf(svc))
    const bindings = get(c, 'HostConfig', 'PortBindings')
    expect(!isRecord(bindings) || Object.keys(bindings).length === 0, `${svc} publishes ${JSON.stringify(bindings)}`)
    const published = get(c, 'NetworkSettings', 'Ports')
    if (isRecord(published))
      for (const [p, b] of Object.entries(published)) expect(b === null, `${svc} port ${p} bound on the host`)
    const nets = get(c, 'NetworkSettings', 'Networks')
    const names = isRecord(nets) ? Object.keys(nets) : []
    expect(names.length === 1 && names[0] === backendName, `${svc} is on ${names.join(', ')}`)
  }
  const webImage = get(await inspect(await containerOf('web')), 'Config', 'Image')
  expect(typeof webImage === 'string', 'cannot tell the web image')
  const script =
    "require('dns').lookup('db',(e)=>require('dns').lookup('cache',(f)=>{console.log(e&&f?'unresolved':'resolved');}))"
  const probe = await docker(['run', '--rm', '--network', frontend, '--entrypoint', 'node', webImage, '-e', script])
  expect(
    probe.code === 0 && probe.stdout.trim() === 'unresolved',
    `from the frontend network: ${probe.stdout.trim()} ${probe.stderr.trim()}`
  )
  return 'no host port bound, only on the internal backend network; db/cache unresolvable from the frontend network'
}
