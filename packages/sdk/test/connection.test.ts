/** Connecting, queueing, reconnecting and replaying, against a real engine that is killed and restarted. */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { eventually, repoRoot, startEngine, startWorker } from '@iii-dev/testkit'
import { backoffDelay } from '../src/transport.ts'
import { coded, connectBridge, freePort, makeBridge, sleep, waitForFunctions } from './helpers.ts'

describe('connection', () => {
  test('backoff is equal jitter under a doubling cap', () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const cap = Math.min(5000, 100 * 2 ** attempt)
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, 100, 5000)
        assert.ok(d >= cap / 2 && d <= cap, `attempt ${attempt}: ${d} not in [${cap / 2}, ${cap}]`)
      }
    }
    const spread = new Set(Array.from({ length: 20 }, () => backoffDelay(6, 100, 5000)))
    assert.ok(spread.size > 10, 'delays are spread out')
  })

  test('frames sent before the engine is up are queued and flushed after the registrations', async (t) => {
    const port = await freePort()
    const url = `ws://127.0.0.1:${port}`
    const bridge = makeBridge(t, url, { reconnectMaxDelayMs: 200 })
    const got: unknown[] = []
    bridge.registerFunction({ function_path: 'queued.handler', handler: (d) => void got.push(d) })
    bridge.registerTrigger({ trigger_type: 'event', function_path: 'queued.handler', config: { topic: 'queued' } })
    const connected = bridge.connect()
    const list = bridge.invokeFunction('engine.functions.list', {})
    bridge.invokeFunctionAsync('emit', { topic: 'queued', data: { n: 1 } })
    await sleep(300) // a few failed attempts
    assert.equal(bridge.isConnected, false)

    await startEngine(t, { ports: { bridge: port } })
    await connected
    const { functions } = await list
    assert.ok(functions.some((f: { function_path: string }) => f.function_path === 'queued.handler'))
    await eventually(() => got.length === 1)
    assert.deepEqual(got, [{ n: 1 }])
  })

  test('a queued call that is not sent in time times out and is dropped from the queue', async (t) => {
    const port = await freePort()
    const bridge = makeBridge(t, `ws://127.0.0.1:${port}`, { reconnectMaxDelayMs: 100 })
    bridge.connect().catch(() => {})
    await assert.rejects(
      bridge.invokeFunction('engine.functions.list', {}, { timeoutMs: 200 }),
      coded('invocation_timeout'),
    )
  })

  test('the queue is bounded', async (t) => {
    const port = await freePort()
    const bridge = makeBridge(t, `ws://127.0.0.1:${port}`, { maxQueuedMessages: 3 })
    for (let i = 0; i < 3; i++) bridge.invokeFunctionAsync('x.y', {})
    assert.throws(() => bridge.invokeFunctionAsync('x.y', {}), coded('queue_full'))
    await assert.rejects(bridge.invokeFunction('x.y', {}), coded('queue_full'))
  })

  test('after the engine is killed and restarted every registration is replayed', async (t) => {
    const port = await freePort()
    const engine1 = await startEngine(t, { ports: { bridge: port } })
    const url = engine1.bridgeUrl
    const worker = await connectBridge(t, url, { reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 200 })
    const events: unknown[] = []
    worker.registerFunction({ function_path: 'replay.echo', handler: (d) => d })
    worker.registerFunction({ function_path: 'replay.event', handler: (d) => void events.push(d) })
    worker.registerTrigger({ trigger_type: 'event', function_path: 'replay.event', config: { topic: 'replayed' } })
    worker.registerFunction({ function_path: 'replay.hang', handler: () => new Promise(() => {}) })
    await waitForFunctions(worker, 'replay.echo', 'replay.event', 'replay.hang')
    let disconnects = 0
    let connects = 0
    worker.on('disconnected', () => disconnects++)
    worker.on('connected', () => connects++)

    // a call in flight when the socket drops fails at once with invocation_stopped
    const inFlight = worker.invokeFunction('replay.hang', {}).then(
      () => null,
      (err) => ({ err, at: Date.now() }),
    )
    await sleep(50)
    const killedAt = Date.now()
    await engine1.kill()
    const failed = await inFlight
    assert.ok(failed !== null && coded('invocation_stopped')(failed.err))
    assert.ok(failed.at - killedAt < 500, `in-flight call failed within 500 ms (${failed.at - killedAt})`)
    assert.equal(disconnects, 1)

    await sleep(300) // a few failed reconnect attempts
    const engine2 = await startEngine(t, { ports: { bridge: port } })
    await eventually(() => connects === 1, 5000)
    const other = await connectBridge(t, engine2.bridgeUrl)
    await waitForFunctions(other, 'replay.echo', 'replay.event')
    assert.deepEqual(await other.invokeFunction('replay.echo', { ok: true }), { ok: true })
    await other.emit('replayed', { after: 'restart' })
    await eventually(() => events.length === 1)
    assert.deepEqual(events, [{ after: 'restart' }])
    const { triggers } = await other.invokeFunction('engine.triggers.list', {})
    assert.equal(triggers.filter((tr: { function_path: string }) => tr.function_path === 'replay.event').length, 1)
  })

  test('a worker process killed with -9 mid-call: the caller gets invocation_stopped within 500 ms', async (t) => {
    const engine = await startEngine(t)
    const worker = startWorker(t, join(repoRoot, 'packages/sdk/test/fixtures/math-worker.ts'), {
      III_BRIDGE_URL: engine.bridgeUrl,
    })
    await worker.waitFor('math worker connected')
    const caller = await connectBridge(t, engine.bridgeUrl)
    await waitForFunctions(caller, 'math.slow')
    const call = caller.invokeFunction('math.slow', { ms: 10_000 }).then(
      () => null,
      (err) => ({ err, at: Date.now() }),
    )
    await sleep(100)
    const killedAt = Date.now()
    await worker.kill()
    const failed = await call
    assert.ok(failed !== null && coded('invocation_stopped')(failed.err))
    assert.ok(failed.at - killedAt < 500, `took ${failed.at - killedAt} ms`)
  })

  test('R9: 50 workers reconnect after an engine restart and re-register everything within 10 s, once', async (t) => {
    const port = await freePort()
    const engine1 = await startEngine(t, { ports: { bridge: port } })
    const workers = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const w = await connectBridge(t, engine1.bridgeUrl, { pingIntervalMs: 0 })
        w.registerFunction({ function_path: `r9.w${i}`, handler: () => i })
        w.registerTrigger({ trigger_type: 'event', function_path: `r9.w${i}`, config: { topic: 'r9' } })
        return w
      }),
    )
    await waitForFunctions(workers[0], ...workers.map((_, i) => `r9.w${i}`))
    await engine1.kill()
    const restartedAt = Date.now()
    const engine2 = await startEngine(t, { ports: { bridge: port } })
    const probe = await connectBridge(t, engine2.bridgeUrl)
    await waitForFunctions(probe, ...workers.map((_, i) => `r9.w${i}`))
    const took = Date.now() - restartedAt
    assert.ok(took < 10_000, `took ${took} ms`)
    const { triggers } = await probe.invokeFunction('engine.triggers.list', {})
    assert.equal(triggers.filter((tr: { config: { topic?: string } }) => tr.config.topic === 'r9').length, 50)
    const { workers: listed } = await probe.invokeFunction('engine.workers.list', {})
    assert.equal(listed.length, 51)
    assert.equal(await probe.invokeFunction('r9.w49', {}), 49)
  })

  test('unregistered things are not replayed', async (t) => {
    const port = await freePort()
    const engine1 = await startEngine(t, { ports: { bridge: port } })
    const worker = await connectBridge(t, engine1.bridgeUrl, { reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 200 })
    const fn = worker.registerFunction({ function_path: 'gone.fn', handler: () => 1 })
    worker.registerFunction({ function_path: 'kept.fn', handler: () => 2 })
    const trig = worker.registerTrigger({ trigger_type: 'event', function_path: 'kept.fn', config: { topic: 'x' } })
    await waitForFunctions(worker, 'gone.fn', 'kept.fn')
    fn.unregister()
    fn.unregister() // twice is safe
    trig.unregister()
    await eventually(async () => {
      const { functions } = await worker.invokeFunction('engine.functions.list', {})
      return !functions.some((f: { function_path: string }) => f.function_path === 'gone.fn')
    })
    await engine1.kill()
    const engine2 = await startEngine(t, { ports: { bridge: port } })
    await new Promise<void>((resolve) => worker.on('connected', () => resolve()))
    const other = await connectBridge(t, engine2.bridgeUrl)
    await waitForFunctions(other, 'kept.fn')
    const { functions } = await other.invokeFunction('engine.functions.list', {})
    assert.ok(!functions.some((f: { function_path: string }) => f.function_path === 'gone.fn'))
    const { triggers } = await other.invokeFunction('engine.triggers.list', {})
    assert.ok(!triggers.some((tr: { id: string }) => tr.id === trig.id))
  })

  test('close() rejects waiting calls with bridge_closed and is safe twice', async (t) => {
    const engine = await startEngine(t)
    const bridge = await connectBridge(t, engine.bridgeUrl)
    bridge.registerFunction({ function_path: 'close.hang', handler: () => new Promise(() => {}) })
    await waitForFunctions(bridge, 'close.hang')
    const waiting = bridge.invokeFunction('close.hang', {}).catch((err) => err)
    await sleep(20)
    await bridge.close()
    await bridge.close()
    assert.ok(coded('bridge_closed')(await waiting))
    await assert.rejects(bridge.invokeFunction('engine.functions.list', {}), coded('bridge_closed'))
    assert.equal(bridge.isConnected, false)
  })

  test('connect() with no URL reads III_BRIDGE_URL', async (t) => {
    const engine = await startEngine(t)
    const before = process.env.III_BRIDGE_URL
    process.env.III_BRIDGE_URL = engine.bridgeUrl
    t.after(() => {
      if (before === undefined) delete process.env.III_BRIDGE_URL
      else process.env.III_BRIDGE_URL = before
    })
    const { createBridge } = await import('../src/index.ts')
    const bridge = createBridge({ logLevel: 'warn' })
    t.after(() => bridge.close())
    assert.equal(bridge.url, engine.bridgeUrl)
    await bridge.connect()
    assert.ok(bridge.workerId === undefined || /^w-/.test(bridge.workerId))
    await eventually(() => bridge.workerId !== undefined)
  })

  test('bad options are refused at construction with one sentence', () => {
    assert.throws(() => makeBridge({ after() {} }, 'http://x'), /must start with ws:\/\/ or wss:\/\//)
    assert.throws(() => makeBridge({ after() {} }, 'ws://x', { invocationTimeoutMs: 0 }), /invocationTimeoutMs/)
  })
})
