import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GroupCommit } from '../../src/lib/group-commit.js'

/** A write the test settles by hand, so it decides what is in flight when. */
function controlledWrites<T>() {
  const writes: Array<{ items: readonly T[]; resolve: (n: number) => void; reject: (err: Error) => void }> = []
  const write = (items: readonly T[]) =>
    new Promise<number>((resolve, reject) => writes.push({ items: [...items], resolve, reject }))
  return { writes, write }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

test('items that arrive while a write is in flight are written together in the next one, in order', async () => {
  const { writes, write } = controlledWrites<string>()
  const commits = new GroupCommit({
    write,
    answer: (items, base: number) => items.map((item, i) => `${item}#${base + i}`),
    maxBatch: 100,
    maxInFlight: 1
  })
  const first = commits.enqueue('a')
  const rest = ['b', 'c', 'd'].map((item) => commits.enqueue(item))
  await tick()
  assert.equal(writes.length, 1, 'one write at a time')
  assert.deepEqual(writes[0]?.items, ['a'])
  writes[0]?.resolve(1)
  assert.equal(await first, 'a#1')
  await tick()
  assert.equal(writes.length, 2)
  assert.deepEqual(writes[1]?.items, ['b', 'c', 'd'])
  writes[1]?.resolve(2)
  assert.deepEqual(await Promise.all(rest), ['b#2', 'c#3', 'd#4'])
})

test('a batch holds at most maxBatch items, and at most maxInFlight writes run at once', async () => {
  const { writes, write } = controlledWrites<number>()
  const commits = new GroupCommit({ write, answer: (items) => items.map(() => true), maxBatch: 3, maxInFlight: 2 })
  // The first two items fill both slots at once; the eight behind them queue.
  const all = Array.from({ length: 10 }, (_, i) => commits.enqueue(i))
  await tick()
  assert.deepEqual(
    writes.map((w) => w.items),
    [[0], [1]]
  )
  writes[1]?.resolve(0)
  await tick()
  assert.deepEqual(writes[2]?.items, [2, 3, 4], 'a settled write frees its slot for the next batch, of at most 3')
  assert.equal(writes.length, 3)
  writes[0]?.resolve(0)
  await tick()
  assert.deepEqual(writes[3]?.items, [5, 6, 7])
  writes[2]?.resolve(0)
  await tick()
  assert.deepEqual(writes[4]?.items, [8, 9])
  writes[3]?.resolve(0)
  writes[4]?.resolve(0)
  assert.equal((await Promise.all(all)).length, 10)
})

test('a failed write fails every item of its batch with its error, and later batches still run', async () => {
  const { writes, write } = controlledWrites<string>()
  const commits = new GroupCommit({ write, answer: (items) => items.map(() => 'ok'), maxBatch: 10, maxInFlight: 1 })
  const first = commits.enqueue('a')
  const second = [commits.enqueue('b'), commits.enqueue('c')]
  await tick()
  writes[0]?.resolve(0)
  await first
  await tick()
  const outage = new Error('connection lost')
  writes[1]?.reject(outage)
  for (const p of second) await assert.rejects(p, (err) => err === outage)
  const after = commits.enqueue('d')
  await tick()
  writes[2]?.resolve(0)
  assert.equal(await after, 'ok')
})

test('a failed answer fails its batch; the next write did not wait for the answer', async () => {
  const { writes, write } = controlledWrites<string>()
  let finishAnswer: (() => void) | undefined
  const commits = new GroupCommit({
    write,
    answer: (items) =>
      new Promise<string[]>((_, reject) => {
        if (items[0] === 'a') finishAnswer = () => reject(new Error('cache down'))
        else reject(new Error('never'))
      }),
    maxBatch: 10,
    maxInFlight: 1
  })
  const first = commits.enqueue('a')
  await tick()
  writes[0]?.resolve(0)
  await tick()
  commits.enqueue('b').catch(() => undefined)
  await tick()
  assert.equal(writes.length, 2, 'the second write started while the first answer was pending')
  finishAnswer?.()
  await assert.rejects(first, /cache down/)
})

test('drain() resolves only once every enqueued item is answered', async () => {
  const { writes, write } = controlledWrites<string>()
  const commits = new GroupCommit({ write, answer: (items) => items.map(() => 1), maxBatch: 10, maxInFlight: 1 })
  await commits.drain() // idle: at once
  const answered: string[] = []
  void commits.enqueue('a').then(() => answered.push('a'))
  void commits.enqueue('b').then(() => answered.push('b'))
  let drained = false
  const drain = commits.drain().then(() => (drained = true))
  await tick()
  writes[0]?.resolve(0)
  await tick()
  assert.equal(drained, false, 'b is still queued')
  writes[1]?.resolve(0)
  await drain
  assert.deepEqual(answered, ['a', 'b'])
})

test('maxBatch or maxInFlight below 1 is refused', () => {
  const write = () => Promise.resolve(0)
  const answer = () => []
  assert.throws(() => new GroupCommit({ write, answer, maxBatch: 0, maxInFlight: 1 }), RangeError)
  assert.throws(() => new GroupCommit({ write, answer, maxBatch: 1, maxInFlight: 0 }), RangeError)
})
