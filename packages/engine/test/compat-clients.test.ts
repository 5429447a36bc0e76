/**
 * The published stream client `@motiadev/stream-client-node` (as an npm devDependency, not a
 * copy) against our stream socket through a real engine process: a group, an item, a custom
 * event, and a reconnect after the engine restarts (issue 13). Changes are made over the
 * bridge as a worker would.
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { Stream } from '@motiadev/stream-client-node'
import { RawBridge } from './fixtures/streams-helpers.ts'

const key = (group_id: string, item_id: string) => ({ stream_name: 'todos', group_id, item_id })

/**
 * The published client reconnects 2 s after every close, also after its own close(), forever
 * (and, with no 'error' listener on its socket, each refused retry throws). Stop that loop
 * before closing, so nothing outlives the test.
 */
function closeForGood(stream: Stream): void {
  ;(stream as unknown as { onSocketClose: () => void }).onSocketClose = () => {}
  stream.close()
}

async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise((r) => srv.close(r))
  return port
}

test('the published node stream client follows a group, an item and custom events (compat 2, 4)', async (t) => {
  const engine = await startEngine(t)
  const b = await RawBridge.connect(engine.bridgeUrl, t)
  await b.call('streams.set', { ...key('inbox', 'a'), data: { title: 'first' } })
  const errors: unknown[] = []
  process.on('uncaughtException', (e) => errors.push(e))
  t.after(() => process.removeAllListeners('uncaughtException'))

  const stream = new Stream(engine.streamsUrl)
  t.after(() => closeForGood(stream))
  const group = stream.subscribeGroup('todos', 'inbox')
  const item = stream.subscribeItem('todos', 'inbox', 'a')
  const toasts: unknown[] = []
  group.onEvent('toast', (d: unknown) => toasts.push(d))
  await eventually(() => group.getState().length === 1 && item.getState() !== null)
  assert.deepEqual(group.getState(), [{ title: 'first', id: 'a' }])

  await b.call('streams.set', { ...key('inbox', 'b'), data: { title: 'second' } })
  await b.call('streams.set', { ...key('inbox', 'a'), data: { title: 'first', done: true } })
  await b.call('streams.set', { ...key('inbox', 'a'), data: { title: 'first', done: false } })
  await eventually(() => group.getState().length === 2 && (item.getState() as any)?.done === false)
  assert.deepEqual(group.getState(), [
    { title: 'first', done: false, id: 'a' },
    { title: 'second', id: 'b' },
  ])
  await b.call('streams.delete', key('inbox', 'b'))
  await eventually(() => group.getState().length === 1)

  await b.call('streams.send', { stream_name: 'todos', group_id: 'inbox', type: 'toast', data: { text: 'saved!' } })
  await eventually(() => toasts.length === 1)
  assert.deepEqual(toasts, [{ text: 'saved!' }])
  // Over the bridge the item is what was set: no id added.
  assert.deepEqual(await b.call('streams.get', key('inbox', 'a')), { title: 'first', done: false })
  closeForGood(stream)
  assert.deepEqual(errors, [])
})

test('the published node stream client rejoins after the engine restarts and gets a fresh sync', async (t) => {
  const ports = { streams: await freePort() }
  const dataDir = mkdtempSync(join(tmpdir(), 'iii-compat-'))
  const first = await startEngine(t, { ports, dataDir })
  const b1 = await RawBridge.connect(first.bridgeUrl, t)
  await b1.call('streams.set', { ...key('inbox', 'a'), data: { title: 'before' } })

  // The published client attaches no 'error' listener to its socket, so a retry that finds the
  // port closed throws in Node; an app using it must catch that, and so does this test. The
  // socket closes after the error and the client tries again 2 s later.
  const refused: string[] = []
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code !== 'ECONNREFUSED') throw e
    refused.push(e.code)
  }
  process.on('uncaughtException', onError)
  t.after(() => process.off('uncaughtException', onError))
  const stream = new Stream(first.streamsUrl)
  t.after(() => closeForGood(stream))
  const group = stream.subscribeGroup('todos', 'inbox')
  await eventually(() => group.getState().length === 1)

  b1.close()
  await first.stop()
  const second = await startEngine(t, { ports, dataDir })
  const b2 = await RawBridge.connect(second.bridgeUrl, t)
  await b2.call('streams.set', { ...key('inbox', 'b'), data: { title: 'while away' } })
  // The client retries every 2 s and joins its subscriptions again on open.
  await eventually(() => group.getState().length === 2, 10_000)
  assert.deepEqual(
    group.getState().map((x: any) => x.id),
    ['a', 'b'],
  )
  await b2.call('streams.set', { ...key('inbox', 'c'), data: { title: 'after' } })
  await eventually(() => group.getState().length === 3)
  closeForGood(stream)
})
