// The stream client in Node (with the `ws` package) against a real engine, and against a raw
// ws server for message-ordering rules that a healthy engine never provokes.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { WebSocket, WebSocketServer } from 'ws'
import { RawBridge } from '../../engine/test/fixtures/streams-helpers.ts'
import { type CustomEvent, StreamClient } from '../src/index.ts'

type Todo = { id: string; title: string; done?: boolean }
const at = (group_id: string, item_id: string) => ({ stream_name: 'todos', group_id, item_id })

test('group and item subscriptions follow a real engine: sync, live changes, custom events, close', async (t) => {
  const engine = await startEngine(t)
  const b = await RawBridge.connect(engine.bridgeUrl, t)
  await b.call('streams.set', { ...at('inbox', 'a'), data: { title: 'A' } })

  const client = new StreamClient(engine.streamsUrl, { WebSocket })
  t.after(() => client.close())
  const group = client.subscribeGroup<Todo>('todos', 'inbox')
  const item = client.subscribeItem<Todo>('todos', 'inbox', 'b')
  const snapshots: string[] = []
  group.onChange((items) => snapshots.push(items.map((i) => `${i.id}:${i.title}`).join(',')))
  const events: CustomEvent[] = []
  const typing: CustomEvent[] = []
  group.onEvent((e) => events.push(e))
  group.onEvent('typing', (e) => typing.push(e))
  await eventually(() => group.synced && item.synced)
  assert.deepEqual(group.value, [{ title: 'A', id: 'a' }])
  assert.equal(item.value, null)

  await b.call('streams.set', { ...at('inbox', 'b'), data: { title: 'B' } })
  await b.call('streams.update', { ...at('inbox', 'b'), ops: [{ type: 'set', path: 'done', value: true }] })
  await b.call('streams.delete', at('inbox', 'a'))
  await b.call('streams.set', { ...at('elsewhere', 'z'), data: { title: 'Z' } })
  await b.call('streams.send', { stream_name: 'todos', group_id: 'inbox', type: 'typing', data: { who: 'ann' } })
  await b.call('streams.send', { stream_name: 'todos', group_id: 'inbox', type: 'other', data: 1 })
  await eventually(() => events.length === 2)
  assert.deepEqual(group.value, [{ title: 'B', id: 'b', done: true }])
  assert.deepEqual(item.value, { title: 'B', id: 'b', done: true })
  assert.deepEqual(snapshots, ['a:A', 'a:A,b:B', 'a:A,b:B', 'b:B'])
  assert.deepEqual(typing, [{ type: 'typing', data: { who: 'ann' } }])

  // A late onChange listener is called at once with the current value.
  let late: Todo[] | undefined
  group.onChange((v) => (late = v))
  assert.deepEqual(late, group.value)

  group.close()
  await b.call('streams.set', { ...at('inbox', 'c'), data: { title: 'C' } })
  await b.call('streams.set', { ...at('inbox', 'b'), data: { title: 'B2' } })
  await eventually(() => item.value?.title === 'B2')
  assert.equal(snapshots.length, 4, 'a closed subscription hears nothing more')
})

test('changes apply in timestamp order: stale messages never roll a value back', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  t.after(() => wss.close())
  await new Promise((r) => wss.once('listening', r))
  const port = (wss.address() as { port: number }).port
  const script = (joins: any[]) => [
    {
      timestamp: 100,
      streamName: 's',
      groupId: 'g',
      subscriptionId: joins[0].subscriptionId,
      event: {
        type: 'sync',
        data: [
          { id: 'x', v: 1 },
          { id: 'y', v: 1 },
        ],
      },
    },
    { timestamp: 300, streamName: 's', groupId: 'g', id: 'x', event: { type: 'update', data: { id: 'x', v: 3 } } },
    { timestamp: 200, streamName: 's', groupId: 'g', id: 'x', event: { type: 'update', data: { id: 'x', v: 2 } } },
    { timestamp: 250, streamName: 's', groupId: 'g', id: 'x', event: { type: 'delete', data: { id: 'x', v: 2 } } },
    { timestamp: 400, streamName: 's', groupId: 'g', id: 'y', event: { type: 'delete', data: { id: 'y', v: 1 } } },
    { timestamp: 350, streamName: 's', groupId: 'g', id: 'y', event: { type: 'update', data: { id: 'y', v: 9 } } },
    { timestamp: 300, streamName: 's', groupId: 'g', id: 'x', event: { type: 'update', data: { id: 'x', v: 4 } } },
    { timestamp: 500, streamName: 's', groupId: 'g', event: { type: 'event', data: { type: 'done', data: null } } },
  ]
  wss.on('connection', (ws) => {
    const joins: any[] = []
    ws.on('message', (raw) => {
      joins.push(JSON.parse(raw.toString()).data)
      if (joins.length === 1) for (const m of script(joins)) ws.send(JSON.stringify(m))
    })
  })
  const client = new StreamClient(`ws://127.0.0.1:${port}`, { WebSocket })
  t.after(() => client.close())
  const sub = client.subscribeGroup<{ id: string; v: number }>('s', 'g')
  let done = false
  sub.onEvent('done', () => (done = true))
  await eventually(() => done)
  // x: 3 at t=300 wins over the older update (200) and delete (250); the equal-time update
  // (300) applies in arrival order. y: deleted at 400; the older update (350) cannot revive it.
  assert.deepEqual(sub.value, [{ id: 'x', v: 4 }])
})

test('the client reconnects with backoff after the engine is killed and joins again (fresh sync)', async (t) => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'iii-sc-')), 'data')
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const first = await startEngine(t, { dataDir })
  const b1 = await RawBridge.connect(first.bridgeUrl)
  await b1.call('streams.set', { ...at('inbox', 'a'), data: { title: 'before' } })

  const client = new StreamClient(first.streamsUrl, { WebSocket, reconnect: { initialDelayMs: 50, maxDelayMs: 400 } })
  t.after(() => client.close())
  const statuses: string[] = []
  client.onStatus((s) => statuses.push(s))
  const group = client.subscribeGroup<Todo>('todos', 'inbox')
  const item = client.subscribeItem<Todo>('todos', 'inbox', 'a')
  await eventually(() => group.synced && item.synced)

  await first.kill()
  b1.close()
  await eventually(() => client.status !== 'open')
  await new Promise((r) => setTimeout(r, 600)) // a few refused attempts while it is down
  const second = await startEngine(t, { dataDir, ports: { streams: Number(new URL(first.streamsUrl).port) } })
  await eventually(() => client.status === 'open' && group.synced && item.synced, 10_000)
  assert.deepEqual(group.value, [{ title: 'before', id: 'a' }])
  assert.ok(statuses.filter((s) => s === 'open').length >= 1 && statuses.includes('closed'))

  const b2 = await RawBridge.connect(second.bridgeUrl, t)
  await b2.call('streams.set', { ...at('inbox', 'a'), data: { title: 'after' } })
  await b2.call('streams.set', { ...at('inbox', 'n'), data: { title: 'new' } })
  await eventually(() => group.value.length === 2 && item.value?.title === 'after')

  client.close()
  assert.equal(client.status, 'closed')
  await second.kill()
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(client.status, 'closed', 'a closed client does not reconnect')
})

test('without a WebSocket class the constructor says what to pass', () => {
  const g = globalThis as { WebSocket?: unknown }
  const saved = g.WebSocket
  g.WebSocket = undefined
  try {
    assert.throws(() => new StreamClient('ws://127.0.0.1:1'), /pass options\.WebSocket/)
  } finally {
    g.WebSocket = saved
  }
})
