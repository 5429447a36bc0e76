/**
 * The WebSocket endpoints (the worker bridge and the stream socket share one helper):
 * plain HTTP is refused with 426, silent peers are dropped on the heartbeat, and a client
 * that never finishes its request headers is cut off.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { describe, test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { RawClient, sleep } from './raw.ts'

const httpUrl = (ws: string) => ws.replace(/^ws:/, 'http:')

describe('WebSocket endpoints', () => {
  test('a plain HTTP request to the bridge or the stream socket gets a JSON 426', async (t) => {
    const engine = await startEngine(t)
    for (const [url, what] of [
      [engine.bridgeUrl, 'bridge'],
      [engine.streamsUrl, 'stream socket'],
    ]) {
      const res = await fetch(`${httpUrl(url)}/`)
      assert.equal(res.status, 426, what)
      assert.match(res.headers.get('content-type') ?? '', /application\/json/)
      assert.equal(res.headers.get('upgrade'), 'websocket')
      const body = await res.json()
      assert.equal(body.error, 'upgrade_required')
      assert.match(body.message, new RegExp(`${what} speaks WebSocket only`))
    }
  })

  test('a worker that stops answering pings is terminated and what it registered goes away', async (t) => {
    const engine = await startEngine(t, { config: 'bridge:\n  heartbeat_ms: 1000\n' })
    const silent = await RawClient.connect(t, engine.bridgeUrl, { autoPong: false })
    const healthy = await RawClient.connect(t, engine.bridgeUrl)
    silent.send({ type: 'registerfunction', function_path: 'silent.fn' })
    healthy.send({ type: 'registerfunction', function_path: 'healthy.fn' })
    const paths = async () =>
      (await healthy.call('engine.functions.list', {})).result.functions.map((f: any) => f.function_path)
    // Registered (a silent worker is dropped 1 s after it connected at the earliest).
    await eventually(async () => (await paths()).includes('silent.fn'), 900)
    const closed = await silent.closed
    assert.equal(closed.code, 1006, 'terminated, not closed politely')
    assert.ok(!(await paths()).includes('silent.fn'), 'its function went with it')
    assert.match(engine.output(), new RegExp(`worker ${silent.workerId} missed a heartbeat`))
    // The worker that answers pings outlives many heartbeats.
    await sleep(2500)
    assert.ok((await paths()).includes('healthy.fn'))
  })

  test('a client that never finishes its request headers is cut off on both endpoints', async (t) => {
    const engine = await startEngine(t)
    const cutOff = (wsUrl: string) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(wsUrl)
        const started = Date.now()
        const socket = connect(Number(u.port), u.hostname, () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n'))
        socket.resume()
        socket.on('error', reject)
        socket.on('close', () => resolve(Date.now() - started))
        t.after(() => socket.destroy())
      })
    const [bridge, streams] = await Promise.all([cutOff(engine.bridgeUrl), cutOff(engine.streamsUrl)])
    // header_timeout_ms (10 s) is the latest close: node's header timer is set 1.5 checks
    // earlier (8.5 s) and checked every second (net/listen.ts), so 8.5-10 s.
    for (const ms of [bridge, streams]) {
      assert.ok(ms >= 8_000 && ms < 12_000, `closed after ${ms} ms, expected 8.5-10 s`)
    }
  })
})
