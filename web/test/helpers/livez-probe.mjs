/* global process, URL, performance */
// Polls GET /livez every 50 ms from a process of its own, so that the latency measured is the
// service's and not the test runner's. Started with an IPC channel: on the message "stop" it sends
// back the list of latencies in milliseconds (Infinity-free: a failed probe counts as 1e9) and exits.
import http from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'

const url = new URL(process.argv[2])
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
const latencies = []
let running = true

function probe() {
  return new Promise((resolve) => {
    const started = performance.now()
    const req = http.get({ host: url.hostname, port: url.port, path: '/livez', agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - started : 1e9))
    })
    req.setTimeout(5000, () => req.destroy(new Error('timeout')))
    req.on('error', () => resolve(1e9))
  })
}

process.on('message', (message) => {
  if (message === 'stop') running = false
})

while (running) {
  latencies.push(await probe())
  await sleep(50)
}
agent.destroy()
process.send(latencies, () => process.exit(0))
