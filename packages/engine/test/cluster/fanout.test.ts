// Three engines on one redis-server: state and streams live in Redis, a stream change made
// through one engine reaches stream-socket clients on the others, and each state or stream
// trigger fires once per change wherever the change was made.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, hasRedis } from '@iii-dev/testkit'
import { RawBridge, RawStreamClient, sleep } from '../fixtures/streams-helpers.ts'
import { startCluster } from './fixtures.ts'

const skip = hasRedis() ? false : 'redis-server is not installed'
const key = (stream_name: string, group_id: string, item_id?: string) => ({
  stream_name,
  group_id,
  ...(item_id && { item_id }),
})

test('a stream change made through engine A reaches socket clients on B and C', { skip }, async (t) => {
  const { engines } = await startCluster(t)
  const [a, b, c] = engines
  const writer = await RawBridge.connect(a.bridgeUrl, t)
  await writer.call('streams.set', { ...key('todos', 'inbox', 'first'), data: { title: 'one' } })

  const onB = await RawStreamClient.connect(b.streamsUrl, t)
  const onC = await RawStreamClient.connect(c.streamsUrl, t)
  onB.join('g', 'todos', 'inbox')
  onC.join('i', 'todos', 'inbox', 'second')
  // The sync on B comes from Redis: it already holds what A wrote.
  const sync = await onB.waitFor((m) => m.event.type === 'sync')
  assert.deepEqual(sync.event.data, [{ title: 'one', id: 'first' }])
  await onC.waitFor((m) => m.event.type === 'sync')

  await writer.call('streams.set', { ...key('todos', 'inbox', 'second'), data: { title: 'two' } })
  await writer.call('streams.update', {
    ...key('todos', 'inbox', 'second'),
    ops: [{ type: 'set', path: 'done', value: true }],
  })
  await writer.call('streams.send', { ...key('todos', 'inbox'), type: 'typing', data: { who: 'ann' } })
  await writer.call('streams.delete', key('todos', 'inbox', 'first'))

  await onB.waitFor((m) => m.event.type === 'delete')
  const seenB = onB.messages.slice(1).map((m) => [m.event.type, m.id ?? null])
  assert.deepEqual(seenB, [
    ['create', 'second'],
    ['update', 'second'],
    ['event', null],
    ['delete', 'first'],
  ])
  assert.deepEqual(onB.messages[2].event.data, { title: 'two', id: 'second', done: true })
  assert.deepEqual(onB.messages[3].event.data, { type: 'typing', data: { who: 'ann' } })
  const seenC = await eventually(() => {
    const got = onC.messages.slice(1).map((m) => m.event.type)
    return got.length >= 2 && got
  })
  assert.deepEqual(seenC, ['create', 'update'])

  // Every engine reads the same store; items come back as they were stored (no id added).
  const reader = await RawBridge.connect(c.bridgeUrl, t)
  assert.deepEqual(await reader.call('streams.getGroup', key('todos', 'inbox')), [{ title: 'two', done: true }])
})

test('state and stream triggers fire once per change, whichever engine made it', { skip }, async (t) => {
  const { engines } = await startCluster(t)
  const [a, b, c] = engines
  const got = { state: [] as any[], stream: [] as any[] }
  const w = await RawBridge.connect(b.bridgeUrl, t)
  w.registerFunction('test.onState', (d) => void got.state.push(d))
  w.registerFunction('test.onStream', (d) => void got.stream.push(d))
  w.registerTrigger('st', 'state', 'test.onState', { group_id: 'orders' })
  w.registerTrigger('sm', 'stream', 'test.onStream', { stream_name: 'todos' })
  await w.ready('test.onState', 'test.onStream')

  const viaA = await RawBridge.connect(a.bridgeUrl, t)
  const viaC = await RawBridge.connect(c.bridgeUrl, t)
  await viaA.call('state.set', { group_id: 'orders', item_id: 'o1', data: { total: 5 } })
  await viaC.call('state.update', {
    group_id: 'orders',
    item_id: 'o1',
    ops: [{ type: 'increment', path: 'total', by: 1 }],
  })
  await w.call('state.delete', { group_id: 'orders', item_id: 'o1' })
  await viaA.call('state.set', { group_id: 'other', item_id: 'x', data: 1 })
  await viaC.call('streams.set', { ...key('todos', 'inbox', 't'), data: { n: 1 } })
  await viaA.call('streams.set', { ...key('todos', 'inbox', 't'), data: { n: 2 } })

  await eventually(() => got.state.length >= 3 && got.stream.length >= 2)
  await sleep(300)
  assert.deepEqual(
    got.state.map((d) => [d.event_type, d.old_value, d.new_value]),
    [
      ['created', null, { total: 5 }],
      ['updated', { total: 5 }, { total: 6 }],
      ['deleted', { total: 6 }, null],
    ],
  )
  assert.deepEqual(
    got.stream.map((d) => [d.event.type, d.event.data.n]),
    [
      ['create', 1],
      ['update', 2],
    ],
  )
})

test('64 concurrent increments spread over three engines end exact', { skip }, async (t) => {
  const { engines } = await startCluster(t)
  const clients = await Promise.all(engines.map((e) => RawBridge.connect(e.bridgeUrl, t)))
  const inc = { group_id: 'g', item_id: 'counter', ops: [{ type: 'increment', path: 'n', by: 1 }] }
  await Promise.all(Array.from({ length: 64 }, (_, i) => clients[i % 3].call('state.update', inc)))
  assert.deepEqual(await clients[2].call('state.get', { group_id: 'g', item_id: 'counter' }), { n: 64 })
  const streamInc = { ...key('s', 'g', 'c'), ops: [{ type: 'increment', path: 'n', by: 1 }] }
  await Promise.all(Array.from({ length: 30 }, (_, i) => clients[i % 3].call('streams.update', streamInc)))
  assert.deepEqual(await clients[0].call('streams.get', key('s', 'g', 'c')), { n: 30 })
})

test('emit on engine A reaches subscribers on B and C once each; a condition on B guards its handler', {
  skip,
}, async (t) => {
  const { engines } = await startCluster(t)
  const [a, b, c] = engines
  const got: Record<string, number[]> = { b: [], c: [] }
  const onB = await RawBridge.connect(b.bridgeUrl, t)
  onB.registerFunction('sub.b', (d) => void got.b.push(d.n))
  onB.registerFunction('sub.b.only-even', (d) => d.n % 2 === 0)
  onB.registerTrigger('eb', 'event', 'sub.b', { topic: 'orders' })
  onB.registerCondition('sub.b', 'sub.b.only-even')
  const onC = await RawBridge.connect(c.bridgeUrl, t)
  onC.registerFunction('sub.c', (d) => void got.c.push(d.n))
  onC.registerTrigger('ec', 'event', 'sub.c', { topic: 'orders' })
  await onB.ready('sub.b', 'sub.b.only-even')
  await onC.ready('sub.c')

  const emitter = await RawBridge.connect(a.bridgeUrl, t)
  // Wait until A routes the topic to both other engines' subscribers.
  await eventually(async () => {
    const { triggers } = await emitter.call('engine.triggers.list')
    return ['eb', 'ec'].every((id) => triggers.some((x: { id: string }) => x.id === id))
  })
  await sleep(200)
  for (const n of [1, 2, 3, 4]) await emitter.call('emit', { topic: 'orders', data: { n } })
  await eventually(() => got.c.length === 4 && got.b.length === 2)
  await sleep(300)
  assert.deepEqual(got.c, [1, 2, 3, 4])
  assert.deepEqual(got.b, [2, 4])
})

test('a streams:join check registered on engine A refuses a client on engine B', { skip }, async (t) => {
  const { engines } = await startCluster(t, 2)
  const [a, b] = engines
  const w = await RawBridge.connect(a.bridgeUrl, t)
  w.registerFunction('test.join', (d) => (d.group_id === 'secret' ? { unauthorized: true } : { ok: true }))
  w.registerTrigger('j', 'streams:join', 'test.join', {})
  await w.ready('test.join')
  const onB = await RawBridge.connect(b.bridgeUrl, t)
  await eventually(async () =>
    (await onB.call('engine.triggers.list')).triggers.some((x: { id: string }) => x.id === 'j'),
  )
  await sleep(200)
  const client = await RawStreamClient.connect(b.streamsUrl, t)
  client.join('s1', 'rooms', 'secret')
  assert.equal((await client.waitFor((m) => m.subscriptionId === 's1')).event.type, 'unauthorized')
  client.join('s2', 'rooms', 'lobby')
  assert.equal((await client.waitFor((m) => m.subscriptionId === 's2')).event.type, 'sync')
})
