/** Worker-owned trigger types, conditions and hooks, end to end through a real engine. */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { eventually, repoRoot, startEngine, startWorker } from '@iii-dev/testkit'
import { createHooks, type InvocationContext } from '../src/index.ts'
import type { ErrorFrame } from '../src/protocol.ts'
import { connectBridge, freePort, sleep, waitForFunctions } from './helpers.ts'

const tickerWorker = join(repoRoot, 'packages/sdk/test/fixtures/ticker-worker.ts')

describe('triggers', () => {
  test('a trigger type owned by another worker process fires the function; refusals come back', async (t) => {
    const engine = await startEngine(t)
    const owner = startWorker(t, tickerWorker, { III_BRIDGE_URL: engine.bridgeUrl })
    await owner.waitFor('ticker worker connected')
    const bridge = await connectBridge(t, engine.bridgeUrl)
    const ticks: Array<{ data: { tick: number }; trigger?: InvocationContext['trigger'] }> = []
    bridge.registerFunction({
      function_path: 'ticks.handle',
      handler: (data, ctx) => void ticks.push({ data, trigger: ctx.trigger }),
    })
    const trigger = bridge.registerTrigger({
      trigger_type: 'ticker',
      function_path: 'ticks.handle',
      config: { every_ms: 50 },
    })
    assert.match(trigger.id, /^[0-9a-f-]{36}$/)
    await owner.waitFor(`registered ${trigger.id}`)
    await eventually(() => ticks.length >= 2)
    assert.equal(ticks[0].data.tick, 1)
    assert.equal(ticks[0].trigger?.type, 'ticker')
    assert.equal(ticks[0].trigger?.id, trigger.id)

    trigger.unregister()
    await owner.waitFor(`unregistered ${trigger.id}`)
    await sleep(120)
    const count = ticks.length
    await sleep(200)
    assert.equal(ticks.length, count, 'no ticks after unregister')

    const refused = new Promise<ErrorFrame>((resolve) => bridge.on('engineerror', resolve))
    const bad = bridge.registerTrigger({ trigger_type: 'ticker', function_path: 'ticks.handle', config: {} })
    const frame = await refused
    assert.equal(frame.code, 'trigger_rejected')
    assert.equal(frame.ref, bad.id)
    assert.match(frame.message, /every_ms/)
  })

  test('the first condition that returns false stops an event-triggered handler', async (t) => {
    const engine = await startEngine(t)
    const bridge = await connectBridge(t, engine.bridgeUrl)
    const handled: number[] = []
    const firstSaw: number[] = []
    const secondSaw: number[] = []
    bridge.registerFunction({
      function_path: 'orders.big',
      handler: (d: { amount: number }) => void handled.push(d.amount),
    })
    bridge.registerCondition({
      function_path: 'orders.big',
      condition_function_path: 'orders.big:condition:0',
      handler: (d: { amount: number }, ctx) => {
        assert.equal(ctx.trigger?.type, 'event')
        firstSaw.push(d.amount)
        return d.amount > 10
      },
    })
    bridge.registerCondition({
      function_path: 'orders.big',
      condition_function_path: 'orders.big:condition:1',
      handler: (d: { amount: number }) => {
        secondSaw.push(d.amount)
        return true
      },
    })
    bridge.registerTrigger({ trigger_type: 'event', function_path: 'orders.big', config: { topic: 'orders' } })
    await waitForFunctions(bridge, 'orders.big', 'orders.big:condition:0', 'orders.big:condition:1')

    await bridge.emit('orders', { amount: 5 })
    await eventually(() => firstSaw.includes(5))
    await bridge.emit('orders', { amount: 50 })
    await eventually(() => handled.includes(50))
    assert.deepEqual(handled, [50])
    assert.deepEqual(firstSaw, [5, 50])
    assert.deepEqual(secondSaw, [50], 'the second condition never saw the call the first one stopped')
    // a direct call runs no conditions
    await bridge.invokeFunction('orders.big', { amount: 1 })
    assert.deepEqual(handled, [50, 1])
  })

  test('unregister() of a condition takes the binding back: a blocked event handler runs', async (t) => {
    const port = await freePort()
    const engine1 = await startEngine(t, { ports: { bridge: port } })
    const bridge = await connectBridge(t, engine1.bridgeUrl, { reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 200 })
    const handled: number[] = []
    const checked: number[] = []
    bridge.registerFunction({ function_path: 'gate.handle', handler: (d: { n: number }) => void handled.push(d.n) })
    // the condition function stays registered (it is not given to registerCondition), so only
    // the binding decides whether the engine still calls it
    bridge.registerFunction({
      function_path: 'gate.closed',
      handler: (d: { n: number }) => {
        checked.push(d.n)
        return false
      },
    })
    const bind = () =>
      bridge.registerCondition({ function_path: 'gate.handle', condition_function_path: 'gate.closed' })
    const condition = bind()
    // the same pair twice: the engine keeps one binding, held until both are taken back
    const twin = bind()
    bridge.registerTrigger({ trigger_type: 'event', function_path: 'gate.handle', config: { topic: 'gate' } })
    await waitForFunctions(bridge, 'gate.handle', 'gate.closed')

    await bridge.emit('gate', { n: 1 })
    await eventually(() => checked.includes(1))
    twin.unregister()
    twin.unregister() // twice is safe
    await bridge.emit('gate', { n: 2 })
    await eventually(() => checked.includes(2))

    condition.unregister()
    await bridge.emit('gate', { n: 3 })
    await eventually(() => handled.includes(3))
    assert.deepEqual(handled, [3], 'the false condition blocked 1 and 2')
    assert.deepEqual(checked, [1, 2], 'the condition is no longer called')

    // taken back while disconnected: it is not replayed to the restarted engine
    const again = bind()
    await bridge.emit('gate', { n: 4 })
    await eventually(() => checked.includes(4))
    await engine1.kill()
    again.unregister()
    const reconnected = new Promise<void>((resolve) => bridge.on('connected', resolve))
    await startEngine(t, { ports: { bridge: port } })
    await reconnected
    await bridge.emit('gate', { n: 5 })
    await eventually(() => handled.includes(5))
    assert.deepEqual(handled, [3, 5])
    assert.deepEqual(checked, [1, 2, 4])
  })

  test('hooks: useEvent carries the emitter trace, useCron fires, useFunctionsAvailable sees new functions', async (t) => {
    const engine = await startEngine(t)
    const bridge = await connectBridge(t, engine.bridgeUrl)
    const hooks = createHooks(bridge)

    const events: Array<{ data: unknown; traceId: string }> = []
    const ev = hooks.useEvent('hooks.topic', (data, ctx) => void events.push({ data, traceId: ctx.traceId }))
    assert.match(ev.function_path, /^event\.hooks\.topic\./)
    let emitterTrace = ''
    bridge.registerFunction({
      function_path: 'hooks.emitter',
      handler: async (_d, ctx) => {
        emitterTrace = ctx.traceId
        await bridge.emit('hooks.topic', { hello: 'world' })
      },
    })

    const ticks: Array<{ scheduled_time: string }> = []
    hooks.useCron('* * * * * *', (data) => void ticks.push(data))

    const lists: string[][] = []
    hooks.useFunctionsAvailable((functions) => void lists.push(functions.map((f) => f.function_path)))

    await waitForFunctions(bridge, ev.function_path, 'hooks.emitter')
    await bridge.invokeFunction('hooks.emitter', {})
    await eventually(() => events.length === 1)
    assert.deepEqual(events[0].data, { hello: 'world' })
    assert.equal(events[0].traceId, emitterTrace)

    bridge.registerFunction({ function_path: 'hooks.latecomer', handler: () => null })
    await eventually(() => lists.some((l) => l.includes('hooks.latecomer')), 5000)

    await eventually(() => ticks.length >= 1, 3000)
    assert.match(ticks[0].scheduled_time, /^\d{4}-\d{2}-\d{2}T/)

    ev.unregister()
    await eventually(async () => {
      const { functions } = await bridge.invokeFunction('engine.functions.list', {})
      return !functions.some((f: { function_path: string }) => f.function_path === ev.function_path)
    })
  })
})
