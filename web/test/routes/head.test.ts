// HEAD is a safe method: it answers like GET but changes nothing in PostgreSQL or Redis.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startStack, type TestStack } from '../helpers/index.js'

let stack: TestStack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())

const homepageTotal = async () => {
  const [row] = await stack.pg.query<{ total: number }>("SELECT total::int FROM visit_counter WHERE label = 'homepage'")
  return row?.total ?? 0
}

test('HEAD / answers 200 without counting a visit', async () => {
  await fetch(stack.url + '/') // the counter row exists from here on
  const before = await homepageTotal()
  for (let i = 0; i < 5; i++) {
    const response = await fetch(stack.url + '/', { method: 'HEAD' })
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /application\/json/)
  }
  assert.equal(await homepageTotal(), before)
  const get = await fetch(stack.url + '/')
  assert.equal(get.status, 200)
  assert.equal(await homepageTotal(), before + 1)
})

test('HEAD /cache answers 200 without writing the probe key', async () => {
  const exists = () => stack.redis.command((redis) => redis.exists('teste'))
  assert.equal(await exists(), 0)
  const response = await fetch(stack.url + '/cache', { method: 'HEAD' })
  assert.equal(response.status, 200)
  assert.equal(await exists(), 0)
  await fetch(stack.url + '/cache')
  assert.equal(await exists(), 1)
})
