// RELIABILITY R4: every acknowledged state/streams write survives kill -9 of the engine with
// the embedded (sqlite) store, and stream clients that come back get a fresh sync.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { RawBridge, RawStreamClient } from './fixtures/streams-helpers.ts'

test('R4: acknowledged writes survive SIGKILL; a stream client gets a fresh sync after the restart', async (t) => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'iii-r4-')), 'data')
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const first = await startEngine(t, { dataDir })
  const b = await RawBridge.connect(first.bridgeUrl)
  const watcher = await RawStreamClient.connect(first.streamsUrl, t)
  watcher.join('w', 'orders', 'open')
  await watcher.waitFor((m) => m.event.type === 'sync')

  // Writes of every kind in flight at once; the engine is killed as soon as 300 were answered.
  const N = 600
  const acked = { state: new Set<number>(), stream: new Set<number>(), incr: 0 }
  let answered = 0
  let killed: Promise<void> | undefined
  const onAck = () => {
    if (++answered === 300) killed = first.kill()
  }
  const calls: Promise<unknown>[] = []
  for (let i = 0; i < N; i++) {
    const kind = i % 3
    const p =
      kind === 0
        ? b.call('state.set', { group_id: 'orders', item_id: `o${i}`, data: { i } }).then(() => acked.state.add(i))
        : kind === 1
          ? b
              .call('streams.set', { stream_name: 'orders', group_id: 'open', item_id: `s${i}`, data: { i } })
              .then(() => acked.stream.add(i))
          : b
              .call('state.update', {
                group_id: 'counters',
                item_id: 'n',
                ops: [{ type: 'increment', path: 'v', by: 1 }],
              })
              .then(() => acked.incr++)
    calls.push(p.then(onAck, () => {}))
  }
  for (let waited = 0; killed === undefined; waited += 10) {
    assert.ok(waited < 10_000, 'the engine never answered 300 writes')
    await new Promise((r) => setTimeout(r, 10))
  }
  await killed
  b.close()
  assert.equal(first.proc.signalCode, 'SIGKILL')
  const ackedTotal = acked.state.size + acked.stream.size + acked.incr
  assert.ok(ackedTotal >= 300, `${ackedTotal} writes were acknowledged before the kill`)
  await new Promise<void>((r) => (watcher.closed ? r() : watcher.ws.once('close', () => r())))

  // Same data directory and the same stream port, so the client can come back to it.
  const streamsPort = Number(new URL(first.streamsUrl).port)
  const second = await startEngine(t, { dataDir, ports: { streams: streamsPort } })
  const c = await RawBridge.connect(second.bridgeUrl, t)
  const state = (await c.call('state.getGroup', { group_id: 'orders' })) as Array<{ i: number }>
  const have = new Set(state.map((v) => v.i))
  for (const i of acked.state) assert.ok(have.has(i), `acknowledged state.set o${i} is missing`)
  const items = (await c.call('streams.getGroup', { stream_name: 'orders', group_id: 'open' })) as Array<{
    i: number
    id: string
  }>
  const haveItems = new Set(items.map((v) => v.i))
  for (const i of acked.stream) assert.ok(haveItems.has(i), `acknowledged streams.set s${i} is missing`)
  const counter = (await c.call('state.get', { group_id: 'counters', item_id: 'n' })) as { v: number } | null
  assert.ok((counter?.v ?? 0) >= acked.incr, `counter ${counter?.v} < ${acked.incr} acknowledged increments`)
  // Unacknowledged increments may or may not have landed, but never more than were sent.
  assert.ok((counter?.v ?? 0) <= N / 3)

  const back = await RawStreamClient.connect(second.streamsUrl, t)
  back.join('w', 'orders', 'open')
  const sync = await back.waitFor((m) => m.event.type === 'sync')
  assert.equal(sync.event.data.length, items.length)
  assert.ok(sync.event.data.length >= acked.stream.size)
  await c.call('streams.set', { stream_name: 'orders', group_id: 'open', item_id: 'after', data: { i: -1 } })
  const push = await back.waitFor((m) => m.event.type === 'create')
  assert.equal(push.id, 'after')
})

test('WAL checkpoints run off the event loop once writes come: the main file fills before SQLite would checkpoint', async (t) => {
  // SQLite's own automatic checkpoint waits for 1000 WAL pages (4 MB) and runs inside a commit
  // on the engine's thread. The engine's checkpoint thread starts once a WAL file passes 1 MB
  // and copies the commits into the main file every 500 ms, so 1.6 MB of values are in the
  // main file well before 4 MB of WAL.
  const engine = await startEngine(t)
  const b = await RawBridge.connect(engine.bridgeUrl, t)
  const file = join(engine.dataDir, 'state.db')
  const before = statSync(file).size
  const value = 'x'.repeat(3000) // one page per item
  await Promise.all(
    Array.from({ length: 500 }, (_, i) => b.call('state.set', { group_id: 'g', item_id: `i${i}`, data: value })),
  )
  const wal = statSync(`${file}-wal`).size
  assert.ok(wal > 1024 * 1024 && wal < 4 * 1024 * 1024, `the WAL holds the writes, under SQLite's 4 MB (${wal} B)`)
  await eventually(() => statSync(file).size - before > 1024 * 1024, 5000)
  assert.equal((await b.call('state.get', { group_id: 'g', item_id: 'i499' })).length, 3000)
})
