/** Triggers through a real engine: events, conditions, cron, worker-owned trigger types, cleanup. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { RawClient, sleep } from './raw.ts'

describe('events', () => {
  test('emit delivers the data unchanged to every subscriber, with trigger metadata and the trace', async (t) => {
    const engine = await startEngine(t)
    const a = await RawClient.connect(t, engine.bridgeUrl)
    const b = await RawClient.connect(t, engine.bridgeUrl)
    const got: any[] = []
    a.register('on.created.a', (d, f) => got.push({ who: 'a', d, trigger: f.trigger, traceparent: f.traceparent }))
    b.register('on.created.b', (d, f) => got.push({ who: 'b', d, trigger: f.trigger }))
    a.send({
      type: 'registertrigger',
      id: 'ea',
      trigger_type: 'event',
      function_path: 'on.created.a',
      config: { topic: 'user.created' },
    })
    b.send({
      type: 'registertrigger',
      id: 'eb',
      trigger_type: 'event',
      function_path: 'on.created.b',
      config: { topic: 'user.created' },
    })
    b.send({
      type: 'registertrigger',
      id: 'ec',
      trigger_type: 'event',
      function_path: 'on.created.b',
      config: { topic: 'other' },
    })
    await sleep(50)
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const emitted = await a.call('emit', { topic: 'user.created', data: { id: '123', tags: ['x'] } }, { traceparent })
    // Durable events: the emit answers once stored (docs/events.md).
    assert.equal(typeof emitted.result.event_id, 'string')
    assert.equal(emitted.result.duplicate, false)
    await eventually(() => got.length === 2)
    await sleep(50)
    assert.equal(got.length, 2)
    const fromA = got.find((g) => g.who === 'a')
    assert.deepEqual(fromA.d, { id: '123', tags: ['x'] })
    assert.deepEqual(fromA.trigger, {
      type: 'event',
      id: 'ea',
      topic: 'user.created',
      event_id: emitted.result.event_id,
      attempt: 1,
    })
    assert.equal(fromA.traceparent, traceparent)
    const bad = await a.call('emit', { data: 1 })
    assert.equal(bad.error.code, 'invalid_argument')
  })

  test('an event trigger without a topic is refused with invalid_trigger', async (t) => {
    const engine = await startEngine(t)
    const a = await RawClient.connect(t, engine.bridgeUrl)
    a.send({ type: 'registertrigger', id: 'bad', trigger_type: 'event', function_path: 'x', config: {} })
    const err = await a.next((f) => f.type === 'error')
    assert.equal(err.code, 'invalid_trigger')
    assert.equal(err.ref, 'bad')
  })

  test("a worker's triggers go away when it disconnects", async (t) => {
    const engine = await startEngine(t)
    const a = await RawClient.connect(t, engine.bridgeUrl)
    const watcher = await RawClient.connect(t, engine.bridgeUrl)
    a.register('h', () => null)
    a.send({ type: 'registertrigger', id: 'e1', trigger_type: 'event', function_path: 'h', config: { topic: 't' } })
    a.send({
      type: 'registertrigger',
      id: 'c1',
      trigger_type: 'cron',
      function_path: 'h',
      config: { expression: '* * * * *' },
    })
    await eventually(async () => (await watcher.call('engine.triggers.list', {})).result.triggers.length === 2)
    a.close()
    await a.closed
    await eventually(async () => (await watcher.call('engine.triggers.list', {})).result.triggers.length === 0)
  })

  test('unregistertrigger stops delivery', async (t) => {
    const engine = await startEngine(t)
    const a = await RawClient.connect(t, engine.bridgeUrl)
    let n = 0
    a.register('count', () => n++)
    a.send({ type: 'registertrigger', id: 'e1', trigger_type: 'event', function_path: 'count', config: { topic: 't' } })
    await sleep(50)
    await a.call('emit', { topic: 't', data: 1 })
    await eventually(() => n === 1)
    a.send({ type: 'unregistertrigger', id: 'e1' })
    await sleep(50)
    await a.call('emit', { topic: 't', data: 2 })
    await sleep(150)
    assert.equal(n, 1)
  })
})

describe('conditions', () => {
  test('conditions run in order before a triggered handler; the first false stops it', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    const order: string[] = []
    const handled: any[] = []
    w.register('big.order', (d) => handled.push(d))
    w.register('cond.amount', (d, f) => {
      order.push(`amount:${f.trigger?.type}`)
      return d.amount > 1000
    })
    w.register('cond.second', () => {
      order.push('second')
      return true
    })
    w.send({ type: 'registercondition', function_path: 'big.order', condition_function_path: 'cond.amount' })
    w.send({ type: 'registercondition', function_path: 'big.order', condition_function_path: 'cond.second' })
    w.send({
      type: 'registertrigger',
      id: 'e',
      trigger_type: 'event',
      function_path: 'big.order',
      config: { topic: 'order' },
    })
    await sleep(50)
    await w.call('emit', { topic: 'order', data: { amount: 5 } })
    await sleep(150)
    assert.deepEqual(handled, [])
    assert.deepEqual(order, ['amount:event'], 'the second condition never ran')
    await w.call('emit', { topic: 'order', data: { amount: 5000 } })
    await eventually(() => handled.length === 1)
    assert.deepEqual(order, ['amount:event', 'amount:event', 'second'])
    assert.deepEqual(handled, [{ amount: 5000 }])
    // A direct call skips conditions.
    const direct = await w.call('big.order', { amount: 1 })
    assert.equal(direct.error, undefined)
    // A worker-fired call carrying trigger metadata runs them.
    const fired = await w.call('big.order', { amount: 1 }, { trigger: { type: 'custom', id: 'x' } })
    assert.equal(fired.error.code, 'condition_failed')
    // Unbinding the first condition lets the call through.
    w.send({ type: 'unregistercondition', function_path: 'big.order', condition_function_path: 'cond.amount' })
    await sleep(50)
    const unbound = await w.call('big.order', { amount: 1 }, { trigger: { type: 'custom', id: 'x' } })
    assert.equal(unbound.error, undefined)
    assert.equal(order.at(-1), 'second')
  })
})

describe('cron', () => {
  test('a 6-field expression fires once per second with scheduled and actual times, never twice', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    const ticks: any[] = []
    w.register('tick', (d, f) => ticks.push({ d, trigger: f.trigger }))
    w.send({
      type: 'registertrigger',
      id: 'every-second',
      trigger_type: 'cron',
      function_path: 'tick',
      config: { expression: '* * * * * *' },
    })
    await eventually(() => ticks.length >= 3, 5000)
    const times = ticks.map((x) => Date.parse(x.d.scheduled_time))
    for (let i = 1; i < times.length; i++) assert.equal(times[i] - times[i - 1], 1000)
    assert.equal(new Set(times).size, times.length, 'no scheduled time fired twice')
    for (const x of ticks) {
      assert.equal(new Date(x.d.scheduled_time).getUTCMilliseconds(), 0)
      const late = Date.parse(x.d.actual_time) - Date.parse(x.d.scheduled_time)
      assert.ok(late >= 0 && late < 200, `late by ${late} ms`)
      assert.deepEqual(x.trigger, { type: 'cron', id: 'every-second', expression: '* * * * * *' })
    }
  })

  test('200 jobs due at the same seconds each fire once per second, none missed, none twice', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    const seen = new Map<string, number>()
    // A cron job is (function, expression, timezone): 200 jobs are 200 functions.
    for (let i = 0; i < 200; i++) {
      w.register(`many-${i}`, (d, f) => {
        const key = `${f.trigger.id} ${d.scheduled_time}`
        seen.set(key, (seen.get(key) ?? 0) + 1)
      })
    }
    for (let i = 0; i < 200; i++) {
      w.send({
        type: 'registertrigger',
        id: `job-${i}`,
        trigger_type: 'cron',
        function_path: `many-${i}`,
        config: { expression: '* * * * * *' },
      })
    }
    await sleep(3300)
    w.close()
    const perSecond = new Map<string, Set<string>>()
    for (const [key, count] of seen) {
      assert.equal(count, 1, `${key} fired ${count} times`)
      const [id, time] = key.split(' ')
      if (!perSecond.has(time)) perSecond.set(time, new Set())
      perSecond.get(time)?.add(id)
    }
    // Every second after all 200 were registered saw all 200 jobs.
    const seconds = [...perSecond.keys()].sort()
    assert.ok(seconds.length >= 3, `only ${seconds.length} seconds observed`)
    for (const time of seconds.slice(1, -1)) assert.equal(perSecond.get(time)?.size, 200, time)
  })

  test('bad expressions and time zones are refused with a precise message', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ expression: 'every day' }, /2 fields/],
      [{ expression: '61 * * * *' }, /invalid/],
      [{ expression: '* * * * *', timezone: 'Mars/Olympus' }, /time zone/],
      [{}, /config.expression/],
    ]
    for (const [i, [config, message]] of cases.entries()) {
      w.send({ type: 'registertrigger', id: `bad-${i}`, trigger_type: 'cron', function_path: 'x', config })
      const err = await w.next((f) => f.type === 'error' && f.ref === `bad-${i}`)
      assert.equal(err.code, 'invalid_trigger')
      assert.match(err.message, message)
    }
  })

  test('a cron job stops when its worker leaves', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    const other = await RawClient.connect(t, engine.bridgeUrl)
    let ticks = 0
    other.register('tick', () => ticks++)
    w.send({
      type: 'registertrigger',
      id: 'c',
      trigger_type: 'cron',
      function_path: 'tick',
      config: { expression: '* * * * * *' },
    })
    await eventually(() => ticks >= 1, 3000)
    w.close()
    await w.closed
    const at = ticks
    await sleep(2200)
    assert.ok(ticks <= at + 1, `ticked ${ticks - at} more times after the owner left`)
  })
})

describe('worker trigger types', () => {
  test('the engine forwards triggers to the owning worker, pending ones when it arrives, and refusals back', async (t) => {
    const engine = await startEngine(t)
    const user = await RawClient.connect(t, engine.bridgeUrl)
    const handled: any[] = []
    user.register('on.webhook', (d, f) => handled.push({ d, trigger: f.trigger }))
    // Registered before anyone owns the type: it waits.
    user.send({
      type: 'registertrigger',
      id: 'wh-1',
      trigger_type: 'webhook',
      function_path: 'on.webhook',
      config: { secret: 's' },
    })
    await sleep(50)
    const owner = await RawClient.connect(t, engine.bridgeUrl)
    owner.send({ type: 'registertriggertype', id: 'webhook', description: 'Incoming webhooks' })
    const forwarded = await owner.next((f) => f.type === 'registertrigger')
    assert.deepEqual(forwarded, {
      type: 'registertrigger',
      id: 'wh-1',
      trigger_type: 'webhook',
      function_path: 'on.webhook',
      config: { secret: 's' },
    })
    owner.send({ type: 'triggerregistrationresult', id: 'wh-1', trigger_type: 'webhook', function_path: 'on.webhook' })
    // The owner fires it: conditions apply and the trigger metadata reaches the handler.
    const fired = await owner.call('on.webhook', { hello: 1 }, { trigger: { type: 'webhook', id: 'wh-1' } })
    assert.equal(fired.error, undefined)
    assert.deepEqual(handled, [{ d: { hello: 1 }, trigger: { type: 'webhook', id: 'wh-1' } }])
    // A refusal reaches the registering worker as trigger_rejected.
    user.send({ type: 'registertrigger', id: 'wh-2', trigger_type: 'webhook', function_path: 'on.webhook', config: {} })
    await owner.next((f) => f.type === 'registertrigger' && f.id === 'wh-2')
    owner.send({
      type: 'triggerregistrationresult',
      id: 'wh-2',
      trigger_type: 'webhook',
      function_path: 'on.webhook',
      error: { code: 'invalid_trigger', message: 'missing secret' },
    })
    const err = await user.next((f) => f.type === 'error' && f.ref === 'wh-2')
    assert.equal(err.code, 'trigger_rejected')
    assert.match(err.message, /missing secret/)
    // Unregistering is forwarded too.
    user.send({ type: 'unregistertrigger', id: 'wh-1' })
    const un = await owner.next((f) => f.type === 'unregistertrigger')
    assert.deepEqual(un, { type: 'unregistertrigger', id: 'wh-1', trigger_type: 'webhook' })
  })

  test('a trigger type owned by one worker cannot be taken by another; built-ins cannot be taken', async (t) => {
    const engine = await startEngine(t)
    const a = await RawClient.connect(t, engine.bridgeUrl)
    const b = await RawClient.connect(t, engine.bridgeUrl)
    a.send({ type: 'registertriggertype', id: 'mine' })
    await sleep(30)
    b.send({ type: 'registertriggertype', id: 'mine' })
    assert.equal((await b.next((f) => f.type === 'error')).code, 'trigger_type_conflict')
    b.send({ type: 'registertriggertype', id: 'cron' })
    const err = await b.next((f) => f.type === 'error' && f.ref === 'cron')
    assert.equal(err.code, 'trigger_type_conflict')
  })

  test('when the owner reconnects, waiting triggers are forwarded again', async (t) => {
    const engine = await startEngine(t)
    const user = await RawClient.connect(t, engine.bridgeUrl)
    user.send({ type: 'registertrigger', id: 'q-1', trigger_type: 'queue', function_path: 'f', config: {} })
    const first = await RawClient.connect(t, engine.bridgeUrl)
    first.send({ type: 'registertriggertype', id: 'queue' })
    await first.next((f) => f.type === 'registertrigger' && f.id === 'q-1')
    first.close()
    await first.closed
    await sleep(50)
    const second = await RawClient.connect(t, engine.bridgeUrl)
    second.send({ type: 'registertriggertype', id: 'queue' })
    await second.next((f) => f.type === 'registertrigger' && f.id === 'q-1')
  })
})

describe('functions_available', () => {
  test('a bound function hears about functions as they come and go', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    const seen: string[][] = []
    w.register('watch', (d) => seen.push(d.functions.map((f: any) => f.function_path)))
    w.send({
      type: 'registertrigger',
      id: 'fa',
      trigger_type: 'functions_available',
      function_path: 'watch',
      config: {},
    })
    await eventually(() => seen.length >= 1)
    const other = await RawClient.connect(t, engine.bridgeUrl)
    other.register('new.thing', () => 1)
    await eventually(() => seen.at(-1)?.includes('new.thing'))
    other.close()
    await eventually(() => !seen.at(-1)?.includes('new.thing'))
  })
})
