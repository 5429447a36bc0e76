/**
 * Compatibility with the original iii engine (issue 13), bridge and core: raw frames as the
 * original SDK and Motia sent them, through a real engine process. Conditions in trigger
 * configs, the missing null result, 7-field cron, the original trigger types and payloads,
 * binary telemetry frames, refused calls answered at once, workers.list fields and logger
 * aliases. The streams side is in compat-streams.test.ts, the config file in compat-config.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { RawClient, sleep } from './raw.ts'

const trigger = (id: string, trigger_type: string, function_path: string, config: Record<string, unknown>) => ({
  type: 'registertrigger',
  id,
  trigger_type,
  function_path,
  config,
})

describe('conditions in trigger configs (compat 1)', () => {
  test('condition_function_path on a state trigger stops the handler exactly as registercondition would', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    const ran: number[] = []
    const asked: number[] = []
    w.register('on.counter', (d) => void ran.push(d.new_value.n))
    w.register('only.seven', (d) => {
      asked.push(d.new_value?.n)
      return d.new_value?.n === 7
    })
    w.send(trigger('st', 'state', 'on.counter', { group_id: 'counters', condition_function_path: 'only.seven' }))
    await sleep(100)
    for (let n = 1; n <= 20; n++) await w.call('state.set', { group_id: 'counters', item_id: `c${n}`, data: { n } })
    await eventually(() => asked.length === 20)
    await sleep(100)
    assert.deepEqual(ran, [7])
  })

  test('_condition_path on an api trigger: a false condition answers 422, a true one runs the handler', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    w.register('api.hello', () => ({ status: 200, body: { hello: 'world' } }))
    w.register('cond.has.token', (req) => req.headers?.['x-token'] === 'yes')
    w.send(
      trigger('api1', 'api', 'api.hello', { api_path: 'hello', http_method: 'GET', _condition_path: 'cond.has.token' }),
    )
    await sleep(100)
    const refused = await fetch(`${engine.apiUrl}/hello`)
    assert.equal(refused.status, 422)
    assert.equal((await refused.json()).error, 'condition_failed')
    const allowed = await fetch(`${engine.apiUrl}/hello`, { headers: { 'x-token': 'yes' } })
    assert.equal(allowed.status, 200)
    assert.deepEqual(await allowed.json(), { hello: 'world' })
  })

  test('_condition_path on an event trigger goes away with the trigger', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    const got: unknown[] = []
    w.register('on.order', (d) => void got.push(d))
    w.register('never', () => false)
    w.send(trigger('ev1', 'event', 'on.order', { topic: 'order', _condition_path: 'never' }))
    await sleep(100)
    await w.call('emit', { topic: 'order', data: { n: 1 } })
    await sleep(200)
    assert.deepEqual(got, [])
    w.send({ type: 'unregistertrigger', id: 'ev1' })
    w.send(trigger('ev2', 'event', 'on.order', { topic: 'order' }))
    await sleep(100)
    await w.call('emit', { topic: 'order', data: { n: 2 } })
    await eventually(() => got.length === 1)
    assert.deepEqual(got, [{ n: 2 }])
  })
})

test('a null result is left out of invocationresult (compat 3); errors and other results are unchanged', async (t) => {
  const engine = await startEngine(t)
  const a = await RawClient.connect(t, engine.bridgeUrl)
  const b = await RawClient.connect(t, engine.bridgeUrl)
  b.register('gives.null', () => null)
  b.register('gives.zero', () => 0)
  await sleep(50)
  const missing = await a.call('state.get', { group_id: 'g', item_id: 'nope' })
  assert.deepEqual(Object.keys(missing).sort(), ['function_path', 'invocation_id', 'type'])
  const forwarded = await a.call('gives.null', {})
  assert.equal('result' in forwarded, false)
  assert.equal('error' in forwarded, false)
  assert.equal((await a.call('gives.zero', {})).result, 0)
  assert.equal((await a.call('no.such.fn', {})).error.code, 'function_not_found')
})

test('7-field cron (sec min hour dom mon dow year) fires every second; a past year never fires; a bad year is refused (compat 5)', async (t) => {
  const engine = await startEngine(t)
  const w = await RawClient.connect(t, engine.bridgeUrl)
  const ticks: any[] = []
  w.register('tick', (d, f) => void ticks.push({ d, trigger: f.trigger }))
  w.register('past', () => assert.fail('a cron job for 2020 ran'))
  w.send(trigger('every-second', 'cron', 'tick', { expression: '* * * * * * *' }))
  w.send(trigger('in-range', 'cron', 'tick', { expression: '*/1 * * * * ? 2020-2199' }))
  w.send(trigger('past', 'cron', 'past', { expression: '* * * * * * 2020' }))
  w.send(trigger('bad', 'cron', 'tick', { expression: '* * * * * * 20x0' }))
  const refused = await w.next((f) => f.type === 'error' && f.ref === 'bad')
  assert.equal(refused.code, 'invalid_trigger')
  assert.match(refused.message, /year field "20x0"/)
  await eventually(() => ticks.filter((x) => x.trigger.id === 'every-second').length >= 2, 5000)
  await eventually(() => ticks.some((x) => x.trigger.id === 'in-range'), 5000)
  const first = ticks[0]
  // The original's payload fields beside ours.
  assert.equal(first.d.trigger, 'cron')
  assert.equal(first.d.job_id, first.trigger.id)
  assert.match(first.d.scheduled_time, /^\d{4}-\d\d-\d\dT/)
  assert.match(engine.output(), /cron past \(\* \* \* \* \* \* 2020\) has no scheduled time left/)
})

describe('original trigger types and payloads (compat 6)', () => {
  test('engine::functions-available gets {functions} when functions change', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    const seen: any[] = []
    w.register('watch', (d, f) => void seen.push({ d, trigger: f.trigger }))
    w.send(trigger('fa', 'engine::functions-available', 'watch', {}))
    await eventually(() => seen.length >= 1)
    const other = await RawClient.connect(t, engine.bridgeUrl)
    other.register('brand.new', () => 1)
    await eventually(() => seen.some((s) => s.d.functions.some((f: any) => f.function_path === 'brand.new')))
    assert.equal(seen[0].trigger.type, 'engine::functions-available')
  })

  test('a log trigger hears logger.log and logger.info, filtered by config.level, in both shapes', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    const all: any[] = []
    const errors: any[] = []
    w.register('on.log', (d) => {
      all.push(d)
      // Logging from a log handler (naming itself, as the SDKs do) does not feed it again.
      w.send({
        type: 'invokefunction',
        function_path: 'logger.info',
        data: { message: 'seen', function_name: 'on.log' },
      })
    })
    w.register('on.error', (d) => void errors.push(d))
    w.send(trigger('l-all', 'log', 'on.log', {}))
    w.send(trigger('l-err', 'log', 'on.error', { level: 'error' }))
    w.send(trigger('l-bad', 'log', 'on.error', { level: 'loud' }))
    assert.equal((await w.next((f) => f.type === 'error' && f.ref === 'l-bad')).code, 'invalid_trigger')
    await w.call('logger.log', { level: 'warn', message: 'disk low', trace_id: 't1', function_path: 'fs.check' })
    await w.call('logger.error', { message: 'boom', function_name: 'orders.create', data: { password: 'x' } })
    await eventually(() => all.length === 2 && errors.length === 1)
    await eventually(() => (engine.output().match(/"message":"seen"/g) ?? []).length === 2)
    await sleep(200)
    assert.equal(all.length, 2, 'the handler’s own logger.info did not fire log triggers')
    assert.equal(errors[0].level, 'error')
    assert.equal(errors[0].message, 'boom')
    assert.equal(errors[0].function_name, 'orders.create')
    assert.equal(errors[0].function_path, 'orders.create')
    assert.deepEqual(errors[0].data, { password: '[redacted]' })
    assert.equal(errors[0].date, errors[0].time)
    assert.equal(all[0].trace_id, 't1')
  })

  test('state payloads carry type "state"; an original-style trigger gets event_type "state:created"', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    const ours: any[] = []
    const original: any[] = []
    w.register('ours', (d) => void ours.push(d))
    w.register('original', (d) => void original.push(d))
    w.register('yes', () => true)
    w.send(trigger('s1', 'state', 'ours', {}))
    w.send(trigger('s2', 'state', 'original', { condition_function_path: 'yes' }))
    await sleep(100)
    await w.call('state.set', { group_id: 'g', item_id: 'i', data: { v: 1 } })
    await w.call('state.set', { group_id: 'g', item_id: 'i', data: { v: 2 } })
    await w.call('state.delete', { group_id: 'g', item_id: 'i' })
    await eventually(() => ours.length === 3 && original.length === 3)
    assert.deepEqual(
      ours.map((d) => [d.type, d.event_type]),
      [
        ['state', 'created'],
        ['state', 'updated'],
        ['state', 'deleted'],
      ],
    )
    assert.deepEqual(
      original.map((d) => d.event_type),
      ['state:created', 'state:updated', 'state:deleted'],
    )
    assert.deepEqual(original[1], {
      type: 'state',
      event_type: 'state:updated',
      group_id: 'g',
      item_id: 'i',
      old_value: { v: 1 },
      new_value: { v: 2 },
    })
  })

  test('a trigger waiting for a type nobody owns logs a warning naming the type', async (t) => {
    const engine = await startEngine(t)
    const w = await RawClient.connect(t, engine.bridgeUrl)
    w.register('h', () => null)
    w.send(trigger('w1', 'queue', 'h', { topic: 'x' }))
    await eventually(() => /trigger w1 waits for trigger type queue/.test(engine.output()))
  })
})

test('binary OTLP/MTRC/LOGS frames are dropped quietly and never count as bad frames (compat 7)', async (t) => {
  const engine = await startEngine(t, { config: 'bridge:\n  max_bad_frames: 10\n' })
  const w = await RawClient.connect(t, engine.bridgeUrl)
  for (let i = 0; i < 300; i++) {
    const prefix = ['OTLP', 'MTRC', 'LOGS'][i % 3]
    w.ws.send(Buffer.concat([Buffer.from(prefix), Buffer.from([0x0a, 0x80, 0xff, i & 0xff])]), { binary: true })
  }
  const answer = await w.call('engine.functions.list', {})
  assert.ok(Array.isArray(answer.result.functions))
  assert.deepEqual(
    w.frames.filter((f) => f.type === 'error'),
    [],
  )
  // Other binary garbage is still a bad frame.
  w.ws.send(Buffer.from([0x00, 0x01, 0x02, 0x03]), { binary: true })
  assert.equal((await w.next((f) => f.type === 'error')).code, 'invalid_message')
})

test('a refused invokefunction with an invocation_id gets an invocationresult with the error at once (compat 8)', async (t) => {
  const engine = await startEngine(t)
  const w = await RawClient.connect(t, engine.bridgeUrl)
  const started = Date.now()
  const answer = w.next((f) => f.type === 'invocationresult' && f.invocation_id === 'bad-1')
  w.send({ type: 'invokefunction', invocation_id: 'bad-1', function_path: 'math.add', data: {}, timeout_ms: -5 })
  const result = await answer
  assert.equal(result.function_path, 'math.add')
  assert.equal(result.error.code, 'invalid_message')
  assert.match(result.error.message, /timeout_ms/)
  assert.ok(Date.now() - started < 2000)
  // The error frame of our protocol is sent as well.
  assert.ok(w.frames.some((f) => f.type === 'error' && f.ref === 'bad-1'))
})

test('engine.workers.list has status, function_count and ip_address; logger.info|warn|error|debug log at that level (compat 9)', async (t) => {
  const engine = await startEngine(t)
  const w = await RawClient.connect(t, engine.bridgeUrl)
  w.register('a.one', () => 1)
  w.register('a.two', () => 2)
  await sleep(50)
  const { workers } = (await w.call('engine.workers.list', {})).result
  const me = workers.find((x: any) => x.id === w.workerId)
  assert.equal(me.status, 'connected')
  assert.equal(me.function_count, 2)
  assert.equal(me.ip_address, '127.0.0.1')
  for (const level of ['info', 'warn', 'error', 'debug']) {
    const r = await w.call(`logger.${level}`, { message: `via ${level}`, trace_id: 'tr', function_name: 'fn.x' })
    assert.equal(r.error, undefined, `logger.${level}: ${JSON.stringify(r.error)}`)
  }
  await eventually(() => engine.output().includes('via debug'))
  const lines = engine
    .output()
    .split('\n')
    .filter((l) => l.includes('"via '))
    .map((l) => JSON.parse(l))
  assert.deepEqual(
    lines.map((l) => [l.level, l.message, l.function_path, l.trace_id]),
    ['info', 'warn', 'error', 'debug'].map((lv) => [lv, `via ${lv}`, 'fn.x', 'tr']),
  )
  assert.equal((await w.call('logger.info', { level: 'info' })).error.code, 'invalid_argument')
})
