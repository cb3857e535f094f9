// What a newcomer sees when ./run.sh cannot work: no engine answering, an image that cannot be
// pulled. Each must be a short message that says what to do, with its own exit code, and leave
// nothing behind.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { report } from '../lib/report.js'
import { expect } from '../lib/json.js'
import { docker } from '../engine.js'
import { runScriptAllowingFailure, stack, PROJECT_LABEL } from '../stack.js'

async function nothingStarted(): Promise<void> {
  const left = (await docker(['ps', '-aq', '--filter', PROJECT_LABEL], 20_000)).stdout.trim()
  expect(left === '', `containers were created: ${left}`)
}

export async function checkFailures(): Promise<void> {
  await report.check('run.sh with no engine answering: one line on how to start it, exit 3', async () => {
    const r = await runScriptAllowingFailure([], 60_000, { DOCKER_HOST: 'unix:///nonexistent/docker.sock' })
    const lines = `${r.stdout}${r.stderr}`.trim().split('\n')
    expect(r.code === 3, `exit code ${String(r.code)}`)
    expect(/the Docker engine is not running: start it/.test(lines[0] ?? ''), `first line: ${lines[0]}`)
    expect(lines.length <= 2, `${lines.length} lines:\n${lines.join('\n')}`)
    expect(!existsSync(join(stack.workdir, '.env')), '.env was created before the engine was checked')
    return lines[0]
  })

  await report.check('run.sh when an image cannot be pulled: one paragraph with the ways out, exit 4', async () => {
    // A registry on a closed local port: refused at once, wherever the test runs.
    const image = '127.0.0.1:9/web-db-cache/absent:1'
    const r = await runScriptAllowingFailure([], 120_000, { POSTGRES_IMAGE: image })
    expect(r.code === 4, `exit code ${String(r.code)}: ${r.stderr.slice(-400)}`)
    const paragraph = r.stderr.slice(r.stderr.indexOf('run.sh:'))
    expect(paragraph.startsWith(`run.sh: Docker could not pull ${image}`), `stderr: ${r.stderr.slice(-600)}`)
    for (const way of ['POSTGRES_IMAGE', 'REDIS_IMAGE', 'NODE_IMAGE', 'registry-mirrors', './run.sh --offline'])
      expect(paragraph.includes(way), `the paragraph does not mention ${way}`)
    expect(paragraph.trim().split('\n').length <= 10, `the paragraph has ${paragraph.split('\n').length} lines`)
    await nothingStarted()
    return `${paragraph.trim().split('\n').length} lines`
  })
}
