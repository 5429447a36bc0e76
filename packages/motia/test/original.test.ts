/**
 * Step files written for the original `@iii-dev/motia` (fixtures/original), run unchanged by
 * `motia dev`, which starts its own engine: `jsonSchema()` bodies validated as JSON Schema,
 * `pathParams`/`queryParams`, `multiTriggerStep`, `step()`, the trigger builders,
 * `ctx.match/is/getData`, the camelCase stream payload, and the stream's `onJoin`/`onLeave`
 * with `authenticateStream` from `motia.config.ts`, seen through a real stream socket.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Bridge } from '@iii-dev/sdk'
import { eventually } from '@iii-dev/testkit'
import WebSocket from 'ws'
import { copyFixture, freePort, http, type MotiaProcess, startMotia } from './helpers.ts'

let motia: MotiaProcess
let api: string
let streams: string
let bridge: Bridge

const cleanups: Array<() => unknown> = []
const cleanup = { after: (fn: () => unknown) => cleanups.push(fn) }
after(async () => {
  for (const fn of cleanups.reverse()) await fn()
})
const state = (group: string, item: string) =>
  bridge.invokeFunction<any>('state.get', { group_id: group, item_id: item })

before(async () => {
  const dir = copyFixture(cleanup, 'original')
  const port = await freePort()
  motia = startMotia(cleanup, ['dev', dir, '--api-port', '0', '--streams-port', '0'], {
    III_BRIDGE_URL: `ws://127.0.0.1:${port}`,
  })
  await motia.waitFor('[motia] ready', 30_000)
  api = /engine started: api (\S+)/.exec(motia.output())?.[1] as string
  streams = /streams (ws:\S+)/.exec(motia.output())?.[1] as string
  bridge = new Bridge({ url: `ws://127.0.0.1:${port}`, forwardLogs: false, logLevel: 'silent' })
  cleanups.push(() => bridge.close())
})

describe('original step files', () => {
  test('a jsonSchema() body is validated as JSON Schema: 400 names the field, a good body reaches the handler', async () => {
    const bad = await http(api, 'POST', '/todo', { description: '' })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.error, 'validation_failed')
    assert.equal(bad.body.in, 'body')
    assert.deepEqual(bad.body.issues[0].path, ['description'])
    assert.equal(bad.body.issues[0].code, 'minLength')
    const missing = await http(api, 'POST', '/todo', {})
    assert.deepEqual(missing.body.issues[0].path, ['description'])
    assert.equal(missing.body.issues[0].code, 'required')

    const ok = await http(api, 'POST', '/todo?inbox=inbox', { description: 'milk' })
    assert.equal(ok.status, 200)
    assert.equal(ok.body.description, 'milk')
    assert.match(ok.body.id, /^todo-/)
    // the emit({topic, data}) reached the event step with its jsonSchema() input
    const note = await eventually(() => state('notifications', ok.body.id))
    assert.equal(note.description, 'milk')
  })

  test('request.pathParams and the Zod body of the original update step', async () => {
    const created = await http(api, 'POST', '/todo', { description: 'bread' })
    const upd = await http(api, 'PUT', `/todo/${created.body.id}`, { description: 'rye bread' })
    assert.equal(upd.status, 200)
    assert.equal(upd.body.description, 'rye bread')
    const missing = await http(api, 'PUT', '/todo/nope', {})
    assert.equal(missing.status, 404)
    assert.deepEqual(missing.body, { error: 'Todo with id nope not found' })
    const wrong = await http(api, 'PUT', `/todo/${created.body.id}`, { checked: 'yes' })
    assert.equal(wrong.status, 400)
  })

  test('multiTriggerStep with api(), event() (with a TriggerCondition) and cron() builders', async () => {
    const r = await http(api, 'POST', '/orders/o7', { amount: 12, description: 'pens' })
    assert.equal(r.status, 201)
    assert.deepEqual(r.body, { orderId: 'o7', via: 'api' })
    assert.deepEqual(await state('orders', 'o7'), { amount: 12 })
    await bridge.emit('order.created', { amount: 50, description: 'small' })
    await bridge.emit('order.created', { amount: 5000, description: 'big' })
    const seen = await eventually(() => state('orders', 'event'))
    assert.deepEqual(seen, { amount: 5000, via: 'event', data: { amount: 5000, description: 'big' } })
  })

  test('step(config, handler) with ctx.match, ctx.is and ctx.getData for api, event and state', async () => {
    const r = await http(api, 'GET', '/inspect/9?x=1&x=2')
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, {
      matched: { kind: 'api', id: '9', q: { x: ['1', '2'] } },
      is: { api: true, event: false, state: false },
      data: null,
    })
    await bridge.emit('inspect.ping', { n: 1 })
    const ev = await eventually(() => state('inspect', 'event'))
    assert.deepEqual(ev, {
      matched: { kind: 'event', data: { n: 1 } },
      is: { api: false, event: true, state: false },
      data: { n: 1 },
    })
    await bridge.invokeFunction('state.set', { group_id: 'inspect-watch', item_id: 'k1', data: { v: 1 } })
    const st = await eventually(() => state('inspect', 'state'))
    assert.deepEqual(st.matched, { kind: 'default', type: 'state', item: 'k1' })
    assert.deepEqual(st.is, { api: false, event: false, state: true })
  })

  test('a stream trigger gets the camelCase payload {type, streamName, groupId, id, event}', async () => {
    const created = await http(api, 'POST', '/todo', { description: 'tea' })
    const id = created.body.id
    await http(api, 'PUT', `/todo/${id}`, { checked: true })
    const done = await eventually(() => state('completed', id))
    assert.equal(done.streamName, 'todo')
    assert.equal(done.groupId, 'inbox')
    assert.equal(done.type, 'stream')
    assert.match(done.at, /^\d{4}-/)
  })
})

/** A raw stream socket client: sends joins, collects every message. */
async function socket(query: string): Promise<{ ws: WebSocket; messages: any[] } | { status: number }> {
  const ws = new WebSocket(`${streams}/${query}`)
  const messages: any[] = []
  ws.on('message', (d) => messages.push(JSON.parse(String(d))))
  return new Promise((res) => {
    ws.once('open', () => res({ ws, messages }))
    ws.once('unexpected-response', (_req, r) => res({ status: r.statusCode ?? 0 }))
    ws.once('error', () => res({ status: 0 }))
  })
}

describe('stream auth and onJoin / onLeave', () => {
  test('authenticateStream refuses a connection without a token (401) and with a bad one', async () => {
    assert.deepEqual(await socket(''), { status: 401 })
    assert.deepEqual(await socket('?token=bad'), { status: 401 })
  })

  test('onJoin gets the subscription and the auth context; {unauthorized: true} refuses; onLeave runs', async () => {
    const c = await socket('?token=ada')
    assert.ok('ws' in c, 'a good token connects')
    cleanups.push(() => c.ws.close())
    const join = (subscriptionId: string, groupId: string) =>
      c.ws.send(JSON.stringify({ type: 'join', data: { subscriptionId, streamName: 'todo', groupId } }))
    join('s1', 'inbox')
    const sync = await eventually(() => c.messages.find((m) => m.subscriptionId === 's1'))
    assert.equal(sync.event.type, 'sync')
    const record = await eventually(() => state('joins', 'inbox:ada'))
    assert.equal(record.authContext.userId, 'ada')
    assert.equal(record.subscription.groupId, 'inbox')
    assert.equal(record.subscription.streamName, 'todo')
    assert.equal((await state('watching', 'inbox')).watching, 1)

    join('s2', 'secret')
    const refused = await eventually(() => c.messages.find((m) => m.subscriptionId === 's2'))
    assert.equal(refused.event.type, 'unauthorized')

    c.ws.send(JSON.stringify({ type: 'leave', data: { subscriptionId: 's1', streamName: 'todo', groupId: 'inbox' } }))
    await eventually(async () => (await state('watching', 'inbox')).watching === 0)
  })

  test('an admin token may join the secret group', async () => {
    const c = await socket('?token=admin')
    assert.ok('ws' in c)
    cleanups.push(() => c.ws.close())
    c.ws.send(JSON.stringify({ type: 'join', data: { subscriptionId: 'a1', streamName: 'todo', groupId: 'secret' } }))
    const sync = await eventually(() => c.messages.find((m) => m.subscriptionId === 'a1'))
    assert.equal(sync.event.type, 'sync')
  })
})

describe('the package answers to @iii-dev/motia', () => {
  test('the alias is the same module as motia, with the original exports', async () => {
    const alias = await import('@iii-dev/motia')
    const motiaMod = await import('motia')
    for (const name of ['jsonSchema', 'api', 'event', 'cron', 'step', 'multiTriggerStep', 'MotiaApp']) {
      assert.equal(typeof (alias as any)[name], 'function', name)
      assert.equal((alias as any)[name], (motiaMod as any)[name], `${name} is motia's own`)
    }
    const schema = alias.jsonSchema((await import('zod')).z.object({ a: (await import('zod')).z.string() }))
    assert.equal((schema as any).type, 'object')
    assert.deepEqual((schema as any).required, ['a'])
  })
})
