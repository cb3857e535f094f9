// /health labels stand-in images (./run.sh --offline) with the versions they really run.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { call, startStack, type TestStack } from '../helpers/index.js'

const NOTE = 'db, cache and web run stand-in images built from Debian packages: PostgreSQL 15.19, Redis 7.0.15'

let stack: TestStack
before(async () => {
  stack = await startStack({ STACK_IMAGE_NOTE: NOTE })
})
after(() => stack.close())

test('GET /health carries STACK_IMAGE_NOTE as stack_images', async () => {
  const { status, body } = await call(stack.url, '/health')
  assert.equal(status, 200)
  assert.equal(body.stack_images, NOTE)
})
