/**
 * The exact frames the SDK puts on the wire, seen from a bare WebSocket server standing in for
 * the engine (things the real engine cannot show: replay order, unanswered fire-and-forget
 * calls, garbage from the peer). Everything else is tested against the real engine.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { eventually } from '@iii-dev/testkit'
import { type WebSocket, WebSocketServer } from 'ws'
import { decodeFrame } from '../src/protocol.ts'
import { makeBridge, sleep } from './helpers.ts'

interface Peer {
  url: string
  frames: any[]
  sockets: WebSocket[]
  send(frame: object | string): void
  dropAll(): void
}

async function peer(t: { after(fn: () => unknown): void }): Promise<Peer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise((r) => wss.once('listening', r))
  const p: Peer = {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`,
    frames: [],
    sockets: [],
    send(frame) {
      const last = p.sockets.at(-1)
      last?.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
    },
    dropAll() {
      for (const s of p.sockets) s.terminate()
    },
  }
  wss.on('connection', (ws) => {
    p.sockets.push(ws)
    ws.on('message', (d) => p.frames.push(decodeFrame(String(d))))
    ws.send(JSON.stringify({ type: 'workerregistered', worker_id: `w-${p.sockets.length}` }))
  })
  t.after(
    () =>
      new Promise<void>((r) => {
        for (const s of wss.clients) s.terminate()
        wss.close(() => r())
      }),
  )
  return p
}

describe('wire', () => {
  test('registrations are replayed in order after every reconnect, then queued frames', async (t) => {
    const p = await peer(t)
    const bridge = makeBridge(t, p.url, { reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 50, workerName: 'wired' })
    bridge.registerService({ id: 'svc' })
    bridge.registerCondition({ function_path: 'f.one', condition_function_path: 'f.cond' })
    bridge.registerTrigger({ id: 't1', trigger_type: 'event', function_path: 'f.one', config: { topic: 'x' } })
    bridge.registerTriggerType({ id: 'tt' }, { registerTrigger() {}, unregisterTrigger() {} })
    bridge.registerFunction({ function_path: 'f.one', description: 'one', handler: () => 1 })
    await bridge.connect()
    // the order of protocol/sdk-cases.json `replay_order` (contract.test.ts checks it against the file)
    const order = ['registerservice', 'registertriggertype', 'registerfunction', 'registercondition', 'registertrigger']
    await eventually(() => p.frames.some((f) => f.function_path === 'engine.workers.register'))
    assert.deepEqual(
      p.frames.slice(0, 5).map((f) => f.type),
      order,
    )
    assert.deepEqual(p.frames[2], { type: 'registerfunction', function_path: 'f.one', description: 'one' })
    const hello = p.frames.find((f) => f.function_path === 'engine.workers.register')
    assert.equal(hello.invocation_id, undefined, 'fire-and-forget')
    assert.equal(hello.data.runtime, 'node')
    assert.equal(hello.data.version, process.version)
    assert.equal(hello.data.name, 'wired')

    p.frames.length = 0
    // queued at the moment the socket is known to be closed
    bridge.on('disconnected', () => bridge.invokeFunctionAsync('later', { n: 1 }))
    p.dropAll()
    await eventually(() => p.frames.length >= 6)
    assert.deepEqual(
      p.frames.slice(0, 5).map((f) => f.type),
      order,
    )
    assert.deepEqual(p.frames[5], { type: 'invokefunction', function_path: 'later', data: { n: 1 } })
  })

  test('calls carry timeout_ms; handlers get a fresh W3C trace; calls without an id are not answered', async (t) => {
    const p = await peer(t)
    const bridge = makeBridge(t, p.url)
    let runs = 0
    bridge.registerFunction({
      function_path: 'h',
      handler: (_d, ctx) => {
        runs++
        return ctx.traceparent
      },
    })
    await bridge.connect()

    void bridge.invokeFunction('remote', { a: 1 }, { timeoutMs: 1234 }).catch(() => {})
    await eventually(() => p.frames.some((f) => f.function_path === 'remote'))
    const call = p.frames.find((f) => f.function_path === 'remote')
    assert.equal(call.timeout_ms, 1234)
    assert.equal(typeof call.invocation_id, 'string')
    assert.equal(call.traceparent, undefined, 'no trace outside a handler')

    p.send({ type: 'invokefunction', function_path: 'h', data: null })
    await eventually(() => runs === 1)
    p.send({ type: 'invokefunction', invocation_id: 'e-1', function_path: 'h', data: null })
    const answer = await eventually(() => p.frames.find((f) => f.type === 'invocationresult'))
    assert.equal(runs, 2)
    assert.equal(answer.invocation_id, 'e-1')
    assert.match(answer.result, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    assert.equal(answer.traceparent, answer.result)
    await sleep(50)
    assert.equal(p.frames.filter((f) => f.type === 'invocationresult').length, 1, 'the call without id got no answer')

    // an incoming traceparent is kept as it is
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    p.send({
      type: 'invokefunction',
      invocation_id: 'e-2',
      function_path: 'h',
      data: null,
      traceparent: tp,
      baggage: 'u=1',
    })
    const second = await eventually(() => p.frames.find((f) => f.invocation_id === 'e-2'))
    assert.equal(second.result, tp)
    assert.equal(second.baggage, 'u=1')
  })

  test('garbage from the peer is ignored; ping gets pong; unknown functions answer function_not_found', async (t) => {
    const p = await peer(t)
    const bridge = makeBridge(t, p.url)
    await bridge.connect()
    p.send('{not json')
    p.send({ type: 'launchrockets' })
    p.send({ type: 'invocationresult', invocation_id: 'nobody', function_path: 'x', result: 1 })
    p.send({ type: 'ping' })
    await eventually(() => p.frames.some((f) => f.type === 'pong'))
    p.send({ type: 'invokefunction', invocation_id: 'e-3', function_path: 'missing', data: {} })
    const answer = await eventually(() => p.frames.find((f) => f.invocation_id === 'e-3'))
    assert.equal(answer.error.code, 'function_not_found')
    // a trigger forwarded for a type this worker does not own is refused
    p.send({ type: 'registertrigger', id: 'tx', trigger_type: 'nobodys', function_path: 'f', config: {} })
    const refused = await eventually(() => p.frames.find((f) => f.type === 'triggerregistrationresult'))
    assert.equal(refused.error.code, 'invalid_trigger')
    assert.ok(bridge.isConnected)
  })

  test('a result JSON cannot carry is answered as invocation_failed', async (t) => {
    const p = await peer(t)
    const bridge = makeBridge(t, p.url)
    bridge.registerFunction({ function_path: 'big', handler: () => ({ n: 10n }) })
    await bridge.connect()
    p.send({ type: 'invokefunction', invocation_id: 'e-4', function_path: 'big', data: {} })
    const answer = await eventually(() => p.frames.find((f) => f.invocation_id === 'e-4'))
    assert.equal(answer.error.code, 'invocation_failed')
    assert.match(answer.error.message, /not JSON/)
  })
})
