// Guarantee 1: exact counting. 10,000 visits over 64 concurrent connections; the database rises by
// exactly the number of 2xx answers, each answer carries a distinct visit number, and the cached
// total ends equal to the database total (or absent).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Load, describeStats, liveServiceForFile, visitCounts } from '../helpers/index.js'

// A hung test fails instead of holding up the run.
const LIMIT_MS = 120_000

const live = liveServiceForFile()

const VISITS = 10_000
const CONNECTIONS = 64

test(
  `${VISITS} visits over ${CONNECTIONS} connections: the database rises by exactly the number of 2xx`,
  { timeout: LIMIT_MS },
  async () => {
    const start = await visitCounts(live.pg)
    const numbers: number[] = []
    const rssBefore = live.service.rssKb()
    const load = new Load({
      url: live.service.url,
      connections: CONNECTIONS,
      amount: VISITS,
      next: () => ({ path: '/' }),
      onOutcome: (o) => {
        if (o.status === 200) numbers.push(Number((JSON.parse(o.body) as { visits: number }).visits))
      }
    })
    const stats = await load.done
    const end = await visitCounts(live.pg)
    const cached = await live.redis.command((r) => r.get('visit_counter:homepage'))
    const rssAfter = live.service.rssKb()

    console.log(describeStats('exact counting', stats))
    console.log(
      `exact counting: database total ${start.total} -> ${end.total} (+${end.total - start.total}), visit log ${start.logged} -> ${end.logged} (+${end.logged - start.logged}), ` +
        `cached total ${cached ?? 'absent'}, service RSS ${Math.round(rssBefore / 1024)} MiB -> ${Math.round(rssAfter / 1024)} MiB`
    )

    assert.equal(stats.sent, VISITS)
    assert.equal(stats.serverErrors, 0, 'no 5xx')
    assert.deepEqual(stats.failures, {}, 'every request got an answer')
    assert.equal(stats.ok, VISITS)
    assert.equal(end.total - start.total, stats.ok, 'the counter rose by exactly the number of 2xx')
    assert.equal(end.logged - start.logged, stats.ok, 'one log row per 2xx')
    // Each answer carries its own number: together they are exactly start+1 .. start+N.
    numbers.sort((a, b) => a - b)
    assert.equal(numbers.length, stats.ok)
    for (let i = 0; i < numbers.length; i++) {
      if (numbers[i] !== start.total + i + 1)
        assert.fail(`visit numbers are not start+1..start+N: position ${i} holds ${numbers[i]}`)
    }
    assert.ok(cached === null || Number(cached) === end.total, `cached total ${cached} vs database ${end.total}`)
    const visits = (await (await fetch(`${live.service.url}/visits`)).json()) as { total: number }
    assert.equal(visits.total, end.total, 'GET /visits agrees with the database')
  }
)
