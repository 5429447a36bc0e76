/**
 * Steps through a real engine: one engine process and `motia start` on fixtures/basic as its
 * own process; everything is observed over HTTP and the engine's built-ins.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type EngineProcess, eventually, startEngine } from '@iii-dev/testkit'
import { fixtures, http, type MotiaProcess, startMotia } from './helpers.ts'

let engine: EngineProcess
let motia: MotiaProcess
let api: string

const cleanups: Array<() => unknown> = []
const cleanup = { after: (fn: () => unknown) => cleanups.push(fn) }
after(async () => {
  for (const fn of cleanups.reverse()) await fn()
})
/** `ctx.trigger` without the engine's trigger id, after checking there is one. */
const noId = (trigger: Record<string, unknown>) => {
  const { id, ...rest } = trigger
  assert.match(String(id), /^[0-9a-f-]{36}$/, 'ctx.trigger.id is the engine trigger id')
  return rest
}
const state = async (group: string, item: string) => (await http(api, 'GET', `/state/${group}/${item}`)).body?.value

before(async () => {
  engine = await startEngine(cleanup)
  api = engine.apiUrl
  motia = startMotia(cleanup, ['start', join(fixtures, 'basic')], { III_BRIDGE_URL: engine.bridgeUrl })
  await motia.waitFor('[motia] ready')
})

describe('multi-trigger', () => {
  test('trigger i of step Name is the function steps.Name:trigger:i, conditions ...:condition[:k]', async () => {
    const res = await fetch(`${api}/state/x/y`) // any call: make sure motia is up
    assert.equal(res.status, 200)
    const { Bridge } = await import('@iii-dev/sdk')
    const bridge = new Bridge({ url: engine.bridgeUrl, forwardLogs: false, logLevel: 'silent' })
    after(() => bridge.close())
    const list = await bridge.invokeFunction<{ functions: { function_path: string; metadata?: any }[] }>(
      'engine.functions.list',
      {},
    )
    const paths = list.functions.map((f) => f.function_path)
    for (let i = 0; i < 5; i++) assert.ok(paths.includes(`steps.Multi:trigger:${i}`), `steps.Multi:trigger:${i}`)
    for (const c of [':condition', ':condition:1', ':condition:2']) {
      assert.ok(paths.includes(`steps.Conditional:trigger:0${c}`), c)
    }
    assert.ok(paths.includes('steps.Conditional:trigger:1:condition'))
    const meta = list.functions.find((f) => f.function_path === 'steps.Multi:trigger:0')?.metadata
    assert.deepEqual(meta?.motia?.trigger_types, ['api', 'event', 'cron', 'state', 'stream'])
  })

  test('an api trigger gets the request as input and ctx.trigger {type, index, path, method}', async () => {
    const r = await http(api, 'POST', '/multi/42?x=1', { a: 1 })
    assert.equal(r.status, 200)
    assert.deepEqual(noId(r.body.trigger), { type: 'api', index: 0, path: '/multi/:id', method: 'POST' })
    assert.deepEqual(r.body.input.path_params, { id: '42' })
    assert.deepEqual(r.body.input.query_params, { x: '1' })
    assert.deepEqual(r.body.input.body, { a: 1 })
    assert.deepEqual(r.body.normalized.data, { a: 1 })
    assert.deepEqual(r.body.normalized.trigger, r.body.trigger)
    assert.equal(r.body.normalized.request.method, 'POST')
  })

  test('an event trigger gets the payload as input and ctx.trigger {type, index, topic}', async () => {
    assert.equal((await http(api, 'POST', '/emit/multi.ping', { p: 7 })).status, 202)
    const seen = await eventually(() => state('seen', 'event'))
    assert.deepEqual(noId(seen.trigger), { type: 'event', index: 1, topic: 'multi.ping' })
    assert.deepEqual(seen.input, { p: 7 })
    assert.deepEqual(seen.normalized, { trigger: seen.trigger, request: null, data: { p: 7 } })
  })

  test('a cron trigger gets {scheduled_time, actual_time} and ctx.trigger {type, index, expression}', async () => {
    const seen = await eventually(() => state('seen', 'cron'), 4000)
    assert.deepEqual(noId(seen.trigger), { type: 'cron', index: 2, expression: '* * * * * *' })
    assert.equal(typeof seen.input.scheduled_time, 'string')
    assert.equal(seen.normalized.request, null)
  })

  test('state and stream triggers get the change and their own fields', async () => {
    await http(api, 'PUT', '/state/multi-watch/k', { v: 1 })
    const s = await eventually(() => state('seen', 'state'))
    assert.deepEqual(noId(s.trigger), { type: 'state', index: 3, group_id: 'multi-watch' })
    assert.equal(s.input.item_id, 'k')
    assert.deepEqual(s.input.new_value, { v: 1 })

    assert.equal((await http(api, 'PUT', '/streams/items/g1/i1', { title: 'x' })).status, 204)
    const st = await eventually(() => state('seen', 'stream'))
    assert.deepEqual(noId(st.trigger), { type: 'stream', index: 4, stream_name: 'items', group_id: 'g1' })
    assert.equal(st.input.item_id, 'i1')
    assert.equal(st.input.event.type, 'create')
  })

  test('a stream declared with a schema refuses items that do not match it', async () => {
    const r = await http(api, 'PUT', '/streams/items/g1/bad', { nope: true })
    assert.equal(r.status, 400)
    assert.match(r.body.error, /stream items: invalid item at title/)
  })
})

describe('conditions', () => {
  test('several conditions run in order and the first false stops the call (422)', async () => {
    const small = await http(api, 'POST', '/orders', { amount: 5 })
    assert.equal(small.status, 422)
    assert.equal(small.body.error, 'condition_failed')
    assert.equal(await state('cond', 'first'), 1)
    assert.equal(await state('cond', 'big'), 1)
    assert.equal(await state('cond', 'last'), null, 'the third condition must not run')
    assert.equal(await state('cond', 'handler:api'), null, 'the handler must not run')

    const big = await http(api, 'POST', '/orders', { amount: 5000 })
    assert.equal(big.status, 201)
    assert.deepEqual(big.body, { accepted: 5000 })
    assert.equal(await state('cond', 'last'), 1)
    assert.equal(await state('cond', 'handler:api'), 1)

    const blocked = await http(api, 'POST', '/orders', { amount: 5000 }, { 'x-block': '1' })
    assert.equal(blocked.status, 422)
    assert.equal(await state('cond', 'last'), 2)
    assert.equal(await state('cond', 'handler:api'), 1)
  })

  test('an event condition gets the payload as input (input?.amount > 1000)', async () => {
    await http(api, 'POST', '/emit/orders.placed', { amount: 10 })
    await http(api, 'POST', '/emit/orders.placed', { amount: 2000 })
    assert.equal(await eventually(() => state('cond', 'event-amount')), 2000)
    assert.equal(await state('cond', 'handler:event'), 1, 'the small order must have been skipped')
  })
})

describe('middleware', () => {
  test('the first listed runs outermost; each can change the request, context and response', async () => {
    const r = await http(api, 'POST', '/guarded', { x: 1 }, { authorization: 'Bearer ok' })
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('x-order'), 'outer:before,auth:before,handler,auth:after,outer:after')
    assert.deepEqual(r.body, { user: { name: 'ada' }, body: { x: 1, touched: 'auth' }, wrapped: true })
  })

  test('a middleware can answer early; the handler does not run', async () => {
    const r = await http(api, 'POST', '/guarded', { x: 1 })
    assert.equal(r.status, 401)
    assert.deepEqual(r.body, { error: 'unauthorized' })
    assert.equal(r.headers.get('x-order'), 'outer:before,auth:before,outer:after')
  })
})

describe('schemas', () => {
  test('a bad body gets 400 with the issues before middleware and handler run', async () => {
    const r = await http(api, 'POST', '/people', { name: '', age: 1.5 })
    assert.equal(r.status, 400)
    assert.equal(r.body.error, 'validation_failed')
    assert.equal(r.body.in, 'body')
    const paths = r.body.issues.map((i: { path: string[] }) => i.path.join('.')).sort()
    assert.deepEqual(paths, ['age', 'name'])
    assert.equal(await state('schema', 'middleware'), null)
  })

  test('a bad query gets 400; a good request gets the parsed body (defaults applied)', async () => {
    const q = await http(api, 'POST', '/people?dry=maybe', { name: 'Ada' })
    assert.equal(q.status, 400)
    assert.equal(q.body.in, 'query_params')
    const ok = await http(api, 'POST', '/people?dry=yes', { name: 'Ada' })
    assert.equal(ok.status, 201)
    assert.deepEqual(ok.body, { person: { name: 'Ada', age: 0 }, query: { dry: 'yes' } })
    assert.equal(await state('schema', 'middleware'), 1)
  })
})

describe('context', () => {
  test('an api step that emits and the event steps downstream log one trace id', async () => {
    const r = await http(api, 'POST', '/trace', {})
    assert.equal(r.status, 200)
    const traceId = r.body.traceId
    assert.match(traceId, /^[0-9a-f]{32}$/)
    const two = await eventually(() => state('trace', 'two'))
    assert.deepEqual(two, { traceId, hop: 2 })
    await motia.waitFor('trace hop two', 5000)
    const lines = motia.output().split('\n')
    for (const [msg, step] of [
      ['trace start', 'TraceStart'],
      ['trace hop one', 'TraceOne'],
      ['trace hop two', 'TraceTwo'],
    ]) {
      const line = lines.find((l) => l.includes(msg))
      assert.ok(line, msg)
      assert.ok(line.includes(`trace=${traceId}`), `${msg} carries the trace id: ${line}`)
      assert.ok(line.includes(`steps.${step}:trigger:0`), `${msg} carries the step: ${line}`)
    }
  })

  test('a handler that throws gives 500 with an error id; the stack is logged, not sent', async () => {
    const r = await http(api, 'GET', '/boom')
    assert.equal(r.status, 500)
    assert.equal(r.body.error, 'internal_error')
    assert.match(r.body.error_id, /^[0-9a-f-]{36}$/)
    assert.ok(!r.text.includes('secret'), 'no detail goes to the client')
    await motia.waitFor(r.body.error_id, 5000)
    const line = motia
      .output()
      .split('\n')
      .find((l) => l.includes(r.body.error_id)) as string
    assert.match(line, /the secret detail/)
    assert.match(motia.output(), /at handler \(.*boom\.step\.ts/)
  })
})
