// The streams module through a real engine process: built-ins over the bridge, the stream
// socket (join, sync, pushes, custom events, leave), stream triggers, auth that fails closed,
// join refusals, and a client that stops reading while others keep receiving.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { RawBridge, RawStreamClient, sleep } from './fixtures/streams-helpers.ts'

const key = (stream_name: string, group_id: string, item_id?: string) => ({
  stream_name,
  group_id,
  ...(item_id && { item_id }),
})

test('streams built-ins: items are objects, given back as they were stored; coded errors for bad input', async (t) => {
  const engine = await startEngine(t, { config: 'modules:\n  streams:\n    max_value_bytes: 2048\n' })
  const b = await RawBridge.connect(engine.bridgeUrl, t)
  assert.deepEqual(
    await b.call('streams.set', { ...key('todos', 'inbox', 't1'), data: { title: 'milk', id: 'ignored' } }),
    {
      old_value: null,
      new_value: { title: 'milk', id: 'ignored' },
    },
  )
  await b.call('streams.set', { ...key('todos', 'inbox', 't0'), data: { title: 'eggs' } })
  await b.call('streams.set', { ...key('todos', 'done', 'x'), data: {} })
  await b.call('streams.set', { ...key('notes', 'n', 'y'), data: {} })
  assert.deepEqual(await b.call('streams.get', key('todos', 'inbox', 't1')), { title: 'milk', id: 'ignored' })
  assert.deepEqual(await b.call('streams.getGroup', key('todos', 'inbox')), [
    { title: 'eggs' },
    { title: 'milk', id: 'ignored' },
  ])
  assert.deepEqual(await b.call('streams.listGroups', { stream_name: 'todos' }), ['done', 'inbox'])
  assert.deepEqual(await b.call('streams.listStreams', {}), ['notes', 'todos'])
  assert.deepEqual(
    await b.call('streams.update', {
      ...key('todos', 'inbox', 't1'),
      ops: [
        { type: 'set', path: 'done', value: true },
        { type: 'remove', path: 'id' },
      ],
    }),
    { old_value: { title: 'milk', id: 'ignored' }, new_value: { title: 'milk', done: true } },
  )
  assert.deepEqual(await b.call('streams.delete', key('todos', 'inbox', 't1')), { title: 'milk', done: true })
  assert.equal(await b.call('streams.get', key('todos', 'inbox', 't1')), null)

  const cases: Array<[string, unknown, string, RegExp]> = [
    [
      'streams.set',
      { ...key('todos', 'inbox', 'a'), data: 'text' },
      'invalid_argument',
      /data must be an object, not a string/,
    ],
    [
      'streams.set',
      { ...key('todos', 'inbox', 'a'), data: [1] },
      'invalid_argument',
      /data must be an object, not an array/,
    ],
    ['streams.set', key('todos', 'inbox', 'a'), 'invalid_argument', /streams\.set: data is required/],
    ['streams.set', { group_id: 'g', item_id: 'a', data: {} }, 'invalid_argument', /stream_name is required/],
    [
      'streams.set',
      { ...key('todos', 'inbox', 'a'), data: { s: 'x'.repeat(3000) } },
      'payload_too_large',
      /over the limit of 2048/,
    ],
    [
      'streams.get',
      { stream_name: 'todos', group_id: 5, item_id: 'a' },
      'invalid_argument',
      /group_id must be a string/,
    ],
    [
      'streams.update',
      { ...key('todos', 'inbox', 't0'), ops: [{ type: 'set', path: '', value: 7 }] },
      'invalid_argument',
      /result must be an object/,
    ],
    [
      'streams.update',
      { ...key('todos', 'inbox', 't0'), ops: [{ type: 'rename', path: 'a' }] },
      'invalid_argument',
      /ops\[0\]\.type/,
    ],
    ['streams.listGroups', {}, 'invalid_argument', /stream_name is required/],
    ['streams.send', { ...key('todos', 'inbox'), data: 1 }, 'invalid_argument', /type is required/],
    [
      'streams.send',
      { ...key('todos', 'inbox'), type: 'big', data: 'x'.repeat(3000) },
      'payload_too_large',
      /over the limit/,
    ],
  ]
  for (const [fn, input, code, message] of cases) {
    const err = await b.callError(fn, input)
    assert.equal(err.code, code, `${fn}: ${err.message}`)
    assert.match(err.message, message)
  }
  assert.deepEqual(await b.call('streams.get', key('todos', 'inbox', 't0')), { title: 'eggs' })
  assert.equal(await b.call('streams.get', key('todos', 'inbox', 'a')), null)
})

test('stream socket: sync on join, then create/update/delete and custom events; leave stops them', async (t) => {
  const engine = await startEngine(t)
  const b = await RawBridge.connect(engine.bridgeUrl, t)
  await b.call('streams.set', { ...key('todos', 'inbox', 'a'), data: { title: 'A' } })
  await b.call('streams.set', { ...key('todos', 'inbox', 'b'), data: { title: 'B' } })

  const group = await RawStreamClient.connect(engine.streamsUrl, t)
  const item = await RawStreamClient.connect(engine.streamsUrl, t)
  group.join('sub-g', 'todos', 'inbox')
  item.join('sub-i', 'todos', 'inbox', 'b')
  const gsync = await group.waitFor((m) => m.event.type === 'sync')
  assert.equal(gsync.subscriptionId, 'sub-g')
  assert.equal(gsync.streamName, 'todos')
  assert.equal(gsync.groupId, 'inbox')
  assert.equal(gsync.id, undefined)
  assert.deepEqual(gsync.event.data, [
    { title: 'A', id: 'a' },
    { title: 'B', id: 'b' },
  ])
  assert.equal(typeof gsync.timestamp, 'number')
  const isync = await item.waitFor((m) => m.event.type === 'sync')
  assert.equal(isync.id, 'b')
  assert.deepEqual(isync.event.data, { title: 'B', id: 'b' })

  await b.call('streams.set', { ...key('todos', 'inbox', 'c'), data: { title: 'C' } })
  await b.call('streams.set', { ...key('todos', 'inbox', 'b'), data: { title: 'B2' } })
  await b.call('streams.update', { ...key('todos', 'inbox', 'b'), ops: [{ type: 'set', path: 'done', value: true }] })
  await b.call('streams.delete', key('todos', 'inbox', 'a'))
  await b.call('streams.set', { ...key('todos', 'other', 'z'), data: { title: 'elsewhere' } })
  await b.call('streams.send', { ...key('todos', 'inbox'), type: 'typing', data: { who: 'ann' } })
  await b.call('streams.send', { ...key('todos', 'inbox', 'b'), type: 'poke', data: 1 })

  await group.waitFor((m) => m.event.type === 'event' && m.event.data.type === 'poke')
  const pushes = group.messages.slice(1).map((m) => [m.id, m.event.type, m.event.data])
  assert.deepEqual(pushes, [
    ['c', 'create', { title: 'C', id: 'c' }],
    ['b', 'update', { title: 'B2', id: 'b' }],
    ['b', 'update', { title: 'B2', id: 'b', done: true }],
    ['a', 'delete', { title: 'A', id: 'a' }],
    [undefined, 'event', { type: 'typing', data: { who: 'ann' } }],
    ['b', 'event', { type: 'poke', data: 1 }],
  ])
  for (const m of group.messages.slice(1)) assert.equal(m.subscriptionId, undefined)
  const ts = group.messages.map((m) => m.timestamp)
  assert.deepEqual(
    ts,
    [...ts].sort((x, y) => x - y),
    'timestamps never go back',
  )

  // The item subscriber saw only item b (changes and its own event), not the group-wide event.
  await item.waitFor((m) => m.event.type === 'event')
  assert.deepEqual(
    item.messages.slice(1).map((m) => [m.id, m.event.type]),
    [
      ['b', 'update'],
      ['b', 'update'],
      ['b', 'event'],
    ],
  )

  group.leave('sub-g', 'todos', 'inbox')
  await sleep(100)
  const before = group.messages.length
  await b.call('streams.set', { ...key('todos', 'inbox', 'd'), data: { title: 'D' } })
  await item.waitFor((m) => m.id === 'b', 300, item.messages.length).catch(() => {})
  await sleep(150)
  assert.equal(group.messages.length, before, 'no pushes after leave')

  // A bad frame gets an error message and the socket stays open.
  group.ws.send('{"type":"dance"}')
  group.ws.send('not json')
  const err = await group.waitFor((m) => m.event.type === 'error')
  assert.equal(err.event.data.code, 'invalid_message')
  group.join('sub-g2', 'todos', 'inbox', 'missing')
  const missing = await group.waitFor((m) => m.subscriptionId === 'sub-g2')
  assert.equal(missing.event.type, 'sync')
  assert.equal(missing.event.data, null)
})

test('stream triggers filter by stream, group and item', async (t) => {
  const engine = await startEngine(t)
  const w = await RawBridge.connect(engine.bridgeUrl, t)
  const got: Record<string, any[]> = { stream: [], group: [], item: [] }
  for (const name of Object.keys(got)) w.registerFunction(`test.${name}`, (d) => void got[name].push(d))
  w.registerTrigger('s-stream', 'stream', 'test.stream', { stream_name: 'todos' })
  w.registerTrigger('s-group', 'stream', 'test.group', { stream_name: 'todos', group_id: 'inbox' })
  w.registerTrigger('s-item', 'stream', 'test.item', { stream_name: 'todos', group_id: 'inbox', item_id: 'x' })
  w.registerTrigger('s-bad', 'stream', 'test.item', { group_id: 'inbox' })
  await w.ready('test.stream', 'test.group', 'test.item')
  await w.call('streams.set', { ...key('todos', 'inbox', 'x'), data: { v: 1 } })
  await w.call('streams.set', { ...key('todos', 'inbox', 'y'), data: { v: 2 } })
  await w.call('streams.set', { ...key('todos', 'done', 'x'), data: { v: 3 } })
  await w.call('streams.set', { ...key('notes', 'inbox', 'x'), data: { v: 4 } })
  await w.call('streams.delete', key('todos', 'inbox', 'x'))
  await eventually(() => got.stream.length === 4 && got.group.length === 3 && got.item.length === 2)
  await sleep(100)
  const { timestamp, ...first } = got.item[0]
  assert.equal(typeof timestamp, 'number')
  assert.deepEqual(first, {
    stream_name: 'todos',
    group_id: 'inbox',
    item_id: 'x',
    event: { type: 'create', data: { v: 1, id: 'x' } },
    type: 'stream',
    streamName: 'todos',
    groupId: 'inbox',
    id: 'x',
  })
  assert.deepEqual(got.item[1].event, { type: 'delete', data: { v: 1, id: 'x' } })
  assert.deepEqual(
    got.stream.map((d) => `${d.group_id}/${d.item_id}:${d.event.type}`),
    ['inbox/x:create', 'inbox/y:create', 'done/x:create', 'inbox/x:delete'],
  )
  assert.equal(got.group.length, 3)
  assert.ok(w.frames.some((f) => f.type === 'error' && f.ref === 's-bad' && f.code === 'invalid_trigger'))
})

test('stream auth fails closed; its result reaches streams:join, which may refuse; leave is reported', async (t) => {
  const engine = await startEngine(t, { config: 'modules:\n  streams:\n    auth_function: test.auth\n' })
  // Before any worker registered the auth function, every connection is refused.
  await assert.rejects(RawStreamClient.connect(engine.streamsUrl, t, { authorization: 'Bearer good' }), /HTTP 401/)

  const w = await RawBridge.connect(engine.bridgeUrl, t)
  const authCalls: any[] = []
  const joins: any[] = []
  const leaves: any[] = []
  w.registerFunction('test.auth', async (req) => {
    authCalls.push(req)
    const token = String(req.headers.authorization ?? '').replace('Bearer ', '')
    if (token === 'good') return { user: 'ann', role: req.query_params.role?.[0] ?? 'user' }
    if (token === 'throw') throw new Error('auth backend down')
    if (token === 'false') return false
    if (token === 'slow') await sleep(6000)
    return null
  })
  w.registerFunction('test.join', (d) => {
    joins.push(d)
    return d.group_id === 'secret' && d.context?.role !== 'admin' ? { unauthorized: true } : { ok: true }
  })
  w.registerFunction('test.leave', (d) => void leaves.push(d))
  w.registerTrigger('j', 'streams:join', 'test.join', {})
  w.registerTrigger('l', 'streams:leave', 'test.leave', {})
  await w.ready('test.auth', 'test.join', 'test.leave')

  const started = Date.now()
  const refused = await Promise.allSettled(
    ['throw', 'false', 'null', 'slow', ''].map((tok) =>
      RawStreamClient.connect(`${engine.streamsUrl}/?token=x`, t, tok ? { authorization: `Bearer ${tok}` } : {}),
    ),
  )
  for (const r of refused) {
    assert.equal(r.status, 'rejected')
    assert.match(String((r as PromiseRejectedResult).reason), /HTTP 401/)
  }
  assert.ok(Date.now() - started < 5900, 'a slow auth function is cut off at 5 s')
  assert.ok(!engine.output().includes('Bearer'), 'headers are not logged')

  const ann = await RawStreamClient.connect(`${engine.streamsUrl}/live?role=user`, t, { authorization: 'Bearer good' })
  const call = authCalls.find((c) => c.path === '/live')
  assert.deepEqual(call.query_params, { role: ['user'] })
  assert.equal(call.headers.authorization, 'Bearer good')
  assert.match(call.addr, /127\.0\.0\.1/)

  ann.join('s1', 'rooms', 'secret')
  const no = await ann.waitFor((m) => m.subscriptionId === 's1')
  assert.equal(no.event.type, 'unauthorized')
  ann.join('s2', 'rooms', 'lobby', 'topic')
  const yes = await ann.waitFor((m) => m.subscriptionId === 's2')
  assert.equal(yes.event.type, 'sync')
  assert.deepEqual(joins[1], {
    subscription_id: 's2',
    stream_name: 'rooms',
    group_id: 'lobby',
    item_id: 'topic',
    id: 'topic',
    context: { user: 'ann', role: 'user' },
  })
  // The refused subscription gets nothing.
  await w.call('streams.set', { ...key('rooms', 'secret', 'm'), data: { text: 'hidden' } })
  await w.call('streams.set', { ...key('rooms', 'lobby', 'topic'), data: { text: 'hi' } })
  await ann.waitFor((m) => m.event.type === 'create')
  assert.ok(!ann.messages.some((m) => m.groupId === 'secret' && m.event.type !== 'unauthorized'))

  const admin = await RawStreamClient.connect(`${engine.streamsUrl}/?role=admin`, t, { authorization: 'Bearer good' })
  admin.join('s3', 'rooms', 'secret')
  const sync = await admin.waitFor((m) => m.subscriptionId === 's3')
  assert.equal(sync.event.type, 'sync')
  assert.deepEqual(sync.event.data, [{ text: 'hidden', id: 'm' }])

  ann.leave('s2', 'rooms', 'lobby', 'topic')
  await eventually(() => leaves.length === 1)
  assert.deepEqual(leaves[0], { ...joins[1] })
  admin.close()
  await eventually(() => leaves.length === 2)
  assert.equal(leaves[1].subscription_id, 's3')
})

test('a join handler that throws refuses the join (fail closed)', async (t) => {
  const engine = await startEngine(t)
  const w = await RawBridge.connect(engine.bridgeUrl, t)
  w.registerFunction('test.join', () => {
    throw new Error('policy service down')
  })
  w.registerTrigger('j', 'streams:join', 'test.join', {})
  await w.ready('test.join')
  const c = await RawStreamClient.connect(engine.streamsUrl, t)
  c.join('s', 'rooms', 'lobby')
  assert.equal((await c.waitFor((m) => m.subscriptionId === 's')).event.type, 'unauthorized')
})

/** Sends custom events in paced batches until `until()` holds; resolves with how many were sent. */
async function pump(b: RawBridge, size: number, until: () => boolean, max: number): Promise<number> {
  const chunk = 'x'.repeat(size)
  let sent = 0
  while (sent < max && !until()) {
    const batch = Array.from({ length: 20 }, (_, k) =>
      b.call('streams.send', { ...key('feed', 'g'), type: 'tick', data: { i: sent + k, chunk } }),
    )
    await Promise.all(batch)
    sent += batch.length
    await sleep(5)
  }
  return sent
}

async function slowClientScenario(t: test.TestContext, config: string, size: number, reason: string): Promise<void> {
  const engine = await startEngine(t, { config })
  const b = await RawBridge.connect(engine.bridgeUrl, t)
  const healthy = await RawStreamClient.connect(engine.streamsUrl, t)
  const slow = await RawStreamClient.connect(engine.streamsUrl, t)
  healthy.join('h', 'feed', 'g')
  slow.join('s', 'feed', 'g')
  await Promise.all([healthy, slow].map((c) => c.waitFor((m) => m.event.type === 'sync')))
  let healthyCount = 0
  healthy.ws.on('message', () => healthyCount++)

  slow.ws.pause() // stops reading: the kernel buffers fill, then its queue in the engine
  const dropped = () => engine.output().includes('stream client dropped')
  const sent = await pump(b, size, dropped, 6000)
  assert.ok(dropped(), `the slow client was not dropped after ${sent} messages`)
  assert.match(engine.output(), new RegExp(`stream client dropped: ${reason}`))
  assert.equal(engine.output().split('stream client dropped').length - 1, 1, 'only the slow client was dropped')

  // The healthy client got every message; once the slow one reads again it finds its socket
  // closed, short of what was sent.
  await eventually(() => healthyCount === sent, 10_000)
  slow.ws.resume()
  await eventually(() => slow.closed, 10_000)
  assert.ok(slow.messages.length - 1 < sent, `the slow client got ${slow.messages.length - 1} of ${sent}`)
  await b.call('streams.send', { ...key('feed', 'g'), type: 'after', data: null })
  await healthy.waitFor((m) => m.event.type === 'event' && m.event.data.type === 'after')
  assert.equal(healthy.closed, false)
}

test('a client that stops reading is dropped when its queue passes max_queue; others get everything', (t) =>
  slowClientScenario(
    t,
    'modules:\n  streams:\n    max_queue: 100\n    slow_client_ms: 60000\n',
    16 * 1024,
    'outbound queue over the cap',
  ))

test('a client whose queue makes no progress for slow_client_ms is dropped; others get everything', (t) =>
  slowClientScenario(
    t,
    'modules:\n  streams:\n    max_queue: 1000000\n    slow_client_ms: 500\n',
    4 * 1024,
    'no write progress',
  ))
