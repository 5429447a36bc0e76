// The state module through a real engine process: built-ins over the bridge, atomic updates,
// state triggers with group filters and conditions, bad input.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { RawBridge, sleep } from './fixtures/streams-helpers.ts'

test('state built-ins: set, get, getGroup, listGroups, update, delete, clear', async (t) => {
  const engine = await startEngine(t)
  const b = await RawBridge.connect(engine.bridgeUrl, t)

  assert.equal(await b.call('state.get', { group_id: 'users', item_id: 'u1' }), null)
  assert.deepEqual(await b.call('state.set', { group_id: 'users', item_id: 'u1', data: { name: 'Ann' } }), {
    old_value: null,
    new_value: { name: 'Ann' },
  })
  assert.deepEqual(await b.call('state.set', { group_id: 'users', item_id: 'u1', data: { name: 'Ann', age: 3 } }), {
    old_value: { name: 'Ann' },
    new_value: { name: 'Ann', age: 3 },
  })
  await b.call('state.set', { group_id: 'users', item_id: 'u0', data: 'zero' })
  await b.call('state.set', { group_id: 'teams', item_id: 't1', data: [1, 2] })
  assert.deepEqual(await b.call('state.get', { group_id: 'users', item_id: 'u1' }), { name: 'Ann', age: 3 })
  assert.deepEqual(await b.call('state.getGroup', { group_id: 'users' }), ['zero', { name: 'Ann', age: 3 }])
  assert.deepEqual(await b.call('state.listGroups', {}), ['teams', 'users'])
  assert.deepEqual(await b.call('state.getGroupEntries', { group_id: 'users' }), [
    { item_id: 'u0', value: 'zero' },
    { item_id: 'u1', value: { name: 'Ann', age: 3 } },
  ])

  assert.deepEqual(
    await b.call('state.update', {
      group_id: 'users',
      item_id: 'u1',
      ops: [
        { type: 'increment', path: 'age', by: 2 },
        { type: 'set', path: 'address.city', value: 'Oslo' },
        { type: 'remove', path: 'name' },
      ],
    }),
    { old_value: { name: 'Ann', age: 3 }, new_value: { age: 5, address: { city: 'Oslo' } } },
  )

  assert.equal(await b.call('state.delete', { group_id: 'users', item_id: 'u0' }), 'zero')
  assert.equal(await b.call('state.delete', { group_id: 'users', item_id: 'u0' }), null)
  assert.equal(await b.call('state.clear', { group_id: 'users' }), null)
  assert.deepEqual(await b.call('state.getGroup', { group_id: 'users' }), [])
  assert.deepEqual(await b.call('state.listGroups', {}), ['teams'])
})

test('64 concurrent increments of one key through the engine end exact', async (t) => {
  const engine = await startEngine(t)
  const clients = await Promise.all([1, 2, 3, 4].map(() => RawBridge.connect(engine.bridgeUrl, t)))
  await Promise.all(
    Array.from({ length: 64 }, (_, i) =>
      clients[i % 4].call('state.update', {
        group_id: 'counters',
        item_id: 'hits',
        ops: [{ type: 'increment', path: 'n', by: 1 }],
      }),
    ),
  )
  assert.deepEqual(await clients[0].call('state.get', { group_id: 'counters', item_id: 'hits' }), { n: 64 })
})

test('bad input gets coded errors and writes nothing', async (t) => {
  const engine = await startEngine(t, { config: 'modules:\n  state:\n    max_value_bytes: 1024\n' })
  const b = await RawBridge.connect(engine.bridgeUrl, t)
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['state.get', { item_id: 'x' }, 'invalid_argument', /state\.get: group_id is required/],
    ['state.get', 'users', 'invalid_argument', /state\.get needs an object/],
    ['state.set', { group_id: 'g', item_id: 7, data: 1 }, 'invalid_argument', /item_id must be a string, not a number/],
    ['state.set', { group_id: '', item_id: 'i', data: 1 }, 'invalid_argument', /group_id must not be empty/],
    ['state.set', { group_id: 'g', item_id: 'i' }, 'invalid_argument', /data is required/],
    ['state.set', { group_id: 'g', item_id: 'i', data: null }, 'invalid_argument', /data must not be null/],
    [
      'state.set',
      { group_id: 'g', item_id: 'i', data: 'x'.repeat(2000) },
      'payload_too_large',
      /over the limit of 1024/,
    ],
    ['state.update', { group_id: 'g', item_id: 'i' }, 'invalid_argument', /ops must be a non-empty array/],
    [
      'state.update',
      { group_id: 'g', item_id: 'i', ops: [{ type: 'explode', path: 'a' }] },
      'invalid_argument',
      /ops\[0\]\.type must be one of/,
    ],
    [
      'state.update',
      { group_id: 'g', item_id: 'i', ops: [{ type: 'increment', path: 'a', by: 'one' }] },
      'invalid_argument',
      /ops\[0\]\.by must be a finite number/,
    ],
    [
      'state.update',
      { group_id: 'g', item_id: 'i', ops: [{ type: 'set', path: '__proto__.admin', value: true }] },
      'invalid_argument',
      /__proto__/,
    ],
    ['state.getGroup', {}, 'invalid_argument', /group_id is required/],
    ['state.clear', { group_id: ['a'] }, 'invalid_argument', /group_id must be a string, not an array/],
  ]
  for (const [fn, input, code, message] of cases) {
    const err = await b.callError(fn, input)
    assert.equal(err.code, code, `${fn} ${JSON.stringify(input).slice(0, 80)}: ${err.message}`)
    assert.match(err.message, message)
  }

  await b.call('state.set', { group_id: 'g', item_id: 'doc', data: { count: 1, label: 'x' } })
  const half = await b.callError('state.update', {
    group_id: 'g',
    item_id: 'doc',
    ops: [
      { type: 'increment', path: 'count', by: 1 },
      { type: 'increment', path: 'label', by: 1 },
    ],
  })
  assert.equal(half.code, 'invalid_argument')
  assert.match(half.message, /state\.update: ops\[1\]: cannot increment "label" because it holds a string/)
  const big = await b.callError('state.update', {
    group_id: 'g',
    item_id: 'doc',
    ops: [
      { type: 'increment', path: 'count', by: 1 },
      { type: 'set', path: 'blob', value: 'y'.repeat(2000) },
    ],
  })
  assert.equal(big.code, 'payload_too_large')
  assert.deepEqual(await b.call('state.get', { group_id: 'g', item_id: 'doc' }), { count: 1, label: 'x' })
  assert.deepEqual(await b.call('state.listGroups', {}), ['g'])
})

test('state triggers: created/updated/deleted payloads, group filter, conditions, traceparent', async (t) => {
  const engine = await startEngine(t)
  const w = await RawBridge.connect(engine.bridgeUrl, t)
  const all: any[] = []
  const orders: any[] = []
  const guarded: any[] = []
  const traces: string[] = []
  w.registerFunction('test.onAny', (data, trigger) => {
    all.push({ data, trigger })
  })
  w.registerFunction('test.onOrders', (data) => {
    orders.push(data)
  })
  w.registerFunction('test.guarded', (data) => {
    guarded.push(data)
  })
  w.registerFunction('test.onlyBig', (data) => (data.new_value?.total ?? 0) > 100)
  w.registerTrigger('t-any', 'state', 'test.onAny', {})
  w.registerTrigger('t-orders', 'state', 'test.onOrders', { group_id: 'orders' })
  w.registerTrigger('t-guarded', 'state', 'test.guarded', { group_id: 'orders' })
  w.registerCondition('test.guarded', 'test.onlyBig')
  // Listen for the raw frames to see traceparent on the trigger-caused call.
  w.ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString())
    if (f.type === 'invokefunction' && f.function_path === 'test.onOrders') traces.push(f.traceparent)
  })
  await w.ready('test.onAny', 'test.onOrders', 'test.guarded', 'test.onlyBig')

  const c = await RawBridge.connect(engine.bridgeUrl, t)
  const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
  await c.call('state.set', { group_id: 'orders', item_id: 'o1', data: { total: 5 } }, { traceparent: tp })
  await c.call('state.update', { group_id: 'orders', item_id: 'o1', ops: [{ type: 'set', path: 'total', value: 500 }] })
  await c.call('state.delete', { group_id: 'orders', item_id: 'o1' })
  await c.call('state.set', { group_id: 'carts', item_id: 'c1', data: { n: 1 } })
  await c.call('state.delete', { group_id: 'carts', item_id: 'nothing-here' })

  await eventually(() => all.length === 4 && orders.length === 3)
  assert.deepEqual(
    orders.map((o) => [o.event_type, o.group_id, o.item_id, o.old_value, o.new_value]),
    [
      ['created', 'orders', 'o1', null, { total: 5 }],
      ['updated', 'orders', 'o1', { total: 5 }, { total: 500 }],
      ['deleted', 'orders', 'o1', { total: 500 }, null],
    ],
  )
  assert.deepEqual(all[3].data, {
    type: 'state',
    event_type: 'created',
    group_id: 'carts',
    item_id: 'c1',
    old_value: null,
    new_value: { n: 1 },
  })
  assert.equal(all[0].trigger.type, 'state')
  assert.equal(all[0].trigger.id, 't-any')
  assert.equal(traces[0], tp)
  await eventually(() => guarded.length === 1)
  // Only the update to 500 passed the condition (and the delete, whose new_value is null, did not).
  await sleep(100)
  assert.equal(guarded.length, 1)
  assert.equal(guarded[0].new_value.total, 500)
})

test('state.clear fires deleted for every item; a trigger with a bad config is refused', async (t) => {
  const engine = await startEngine(t, { config: 'modules:\n  state:\n    adapter: memory\n' })
  const w = await RawBridge.connect(engine.bridgeUrl, t)
  const seen: string[] = []
  w.registerFunction('test.onClear', (d) => {
    seen.push(`${d.event_type}:${d.item_id}`)
  })
  w.registerTrigger('t-clear', 'state', 'test.onClear', { group_id: 'g' })
  w.registerTrigger('t-bad', 'state', 'test.onClear', { group_id: 42 })
  await w.ready('test.onClear')
  for (const id of ['a', 'b', 'c']) await w.call('state.set', { group_id: 'g', item_id: id, data: 1 })
  await w.call('state.clear', { group_id: 'g' })
  await eventually(() => seen.length === 6)
  assert.deepEqual(seen.slice(3).sort(), ['deleted:a', 'deleted:b', 'deleted:c'])
  const refusal = w.frames.find((f) => f.type === 'error' && f.ref === 't-bad')
  assert.ok(refusal, 'the bad trigger got an error frame')
  assert.equal(refusal.code, 'invalid_trigger')
  const { triggers } = await w.call('engine.triggers.list')
  assert.ok(!triggers.some((x: { id: string }) => x.id === 't-bad'))
})

test('the redis adapter without a Redis stops the engine at start-up with a sentence naming it', async () => {
  await assert.rejects(
    startEngine(null, { config: 'modules:\n  streams:\n    adapter: redis\n' }),
    /modules\.streams\.adapter is redis but no Redis is set/,
  )
})
