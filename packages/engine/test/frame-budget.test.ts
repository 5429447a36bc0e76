/**
 * Per-connection budgets on the bridge (attack findings, R11): the bad-frame budget is per
 * window, so valid frames in between do not keep a garbage connection open; the frame-rate
 * budget stops reading a flooding socket for the rest of its slice (the frames already read
 * wait for the next slices, none is dropped).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startEngine } from '@iii-dev/testkit'
import WebSocket from 'ws'
import { RawClient, sleep } from './raw.ts'

test('one valid frame per 9 bad ones does not reset the budget: closed with 1008 within the window', async (t) => {
  const engine = await startEngine(t, { config: 'bridge:\n  max_bad_frames: 50\n' })
  const c = await RawClient.connect(t, engine.bridgeUrl)
  for (let round = 0; round < 10 && c.ws.readyState === WebSocket.OPEN; round++) {
    c.send({ type: 'ping' })
    for (let i = 0; i < 9; i++) c.send('not json')
    await sleep(5)
  }
  const closed = await Promise.race([c.closed, sleep(3000).then(() => null)])
  assert.deepEqual(closed, { code: 1008, reason: 'too many bad frames' })
})

test('max_frames_per_second: a flood is read at the budget while another connection is served', async (t) => {
  const engine = await startEngine(t, { config: 'bridge:\n  limits:\n    max_frames_per_second: 2000\n' })
  const flood = await RawClient.connect(t, engine.bridgeUrl)
  const worker = await RawClient.connect(t, engine.bridgeUrl)
  worker.register('b.echo', (d) => d)
  const caller = await RawClient.connect(t, engine.bridgeUrl)
  await caller.call('engine.functions.list', {})
  const at = Date.now()
  let pongs = 0
  flood.ws.on('message', (raw) => {
    if (raw.toString().includes('"pong"')) pongs++
  })
  for (let i = 0; i < 4000; i++) flood.send({ type: 'ping' })
  await sleep(200)
  const calledAt = Date.now()
  assert.equal((await caller.call('b.echo', 'served')).result, 'served')
  assert.ok(Date.now() - calledAt < 500, 'the other connection is not starved')
  assert.ok(pongs < 4000, `all ${pongs} pongs after 200 ms: not throttled`)
  while (pongs < 4000 && Date.now() - at < 10_000) await sleep(20)
  assert.equal(pongs, 4000, 'every frame is handled, none dropped')
  const took = Date.now() - at
  assert.ok(took >= 1400, `4000 frames at 2000/s took ${took} ms`)
})
