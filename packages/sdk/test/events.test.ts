/** Durable events from the Node SDK through a real engine: coded handler errors, emit options, built-ins. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { Events, NonRetryableError, RetryAfterError } from '../src/index.ts'
import { connectBridge, sleep } from './helpers.ts'

test('NonRetryableError dead-letters at once; RetryAfterError sets the wait; the built-ins are typed', async (t) => {
  const engine = await startEngine(t)
  const bridge = await connectBridge(t, engine.bridgeUrl)
  const events = new Events(bridge)
  const seen: Array<{ n: number; attempt: unknown; at: number }> = []
  bridge.registerFunction({
    function_path: 'sdk.ev.handler',
    handler: (data: { n: number }, ctx) => {
      seen.push({ n: data.n, attempt: ctx.trigger?.attempt, at: Date.now() })
      if (data.n === 1) throw new NonRetryableError('card declined')
      if (ctx.trigger?.attempt === 1) throw new RetryAfterError('busy', 300)
      return null
    },
  })
  bridge.registerTrigger({
    trigger_type: 'event',
    function_path: 'sdk.ev.handler',
    config: { topic: 'sdk.ev', max_attempts: 4, backoff: { initial_ms: 10, jitter: false } },
  })
  await eventually(async () => (await events.stats()).length === 1)
  const first = await bridge.emit('sdk.ev', { n: 1 }, { idempotencyKey: 'k1' })
  assert.deepEqual(await events.emit('sdk.ev', { n: 9 }, { idempotencyKey: 'k1' }), {
    event_id: first.event_id,
    duplicate: true,
  })
  await events.emit('sdk.ev', { n: 2 }, { messageGroupId: 'g', delayMs: 10 })
  await eventually(() => seen.filter((s) => s.n === 2).length === 2, 5000)
  await sleep(100)
  assert.equal(seen.filter((s) => s.n === 1).length, 1, 'a NonRetryableError is not retried')
  const [a, b] = seen.filter((s) => s.n === 2)
  assert.ok(b.at - a.at >= 295, `retried after ${b.at - a.at} ms`)
  const page = await events.listDeadLetters<{ n: number }>({ topic: 'sdk.ev' })
  assert.equal(page.items.length, 1)
  assert.equal(page.items[0].event_id, first.event_id)
  assert.deepEqual(page.items[0].data, { n: 1 })
  assert.deepEqual(page.items[0].error, { code: 'non_retryable', message: 'card declined' })
  const [stats] = await events.stats()
  assert.deepEqual(stats, {
    topic: 'sdk.ev',
    function_path: 'sdk.ev.handler',
    pending: 0,
    in_flight: 0,
    delayed: 0,
    dead: 1,
  })
  assert.equal(await events.redrive({ id: page.items[0].id }), 1)
  await eventually(() => seen.filter((s) => s.n === 1).length === 2)
  await eventually(async () => (await events.listDeadLetters()).items.length === 1)
  assert.equal(await events.discard({ function_path: 'sdk.ev.handler' }), 1)
  assert.deepEqual((await events.listDeadLetters()).items, [])
})
