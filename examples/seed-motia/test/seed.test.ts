/**
 * The description's TypeScript Motia examples run as written: `motia start examples/seed-motia`
 * against a real engine; a test bridge emits events and reads state.
 */
import assert from 'node:assert/strict'
import { dirname, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Bridge } from '@iii-dev/sdk'
import { eventually, startEngine } from '@iii-dev/testkit'
import { http, startMotia } from '../../../packages/motia/test/helpers.ts'

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..')

test('the seed examples: conditions (sync and async), multi-trigger, middleware, context', async (t) => {
  const engine = await startEngine(t)
  const motia = startMotia(t, ['start', app], { III_BRIDGE_URL: engine.bridgeUrl })
  await motia.waitFor('[motia] ready')
  const api = engine.apiUrl
  const bridge = new Bridge({ url: engine.bridgeUrl, forwardLogs: false, logLevel: 'silent' })
  t.after(() => bridge.close())
  await bridge.connect()

  // conditionName: input?.amount > 1000 on an event trigger
  await bridge.emit('order.placed', { id: 'small', amount: 10 })
  await bridge.emit('order.placed', { id: 'big', amount: 5000 })
  await eventually(async () => (await bridge.state.get('high-value-orders', 'big')) !== null)
  assert.equal(await bridge.state.get('high-value-orders', 'small'), null)

  // asyncCondition: await fetchUser(input?.userId) ... user.isVerified
  await bridge.state.set('users', 'u1', { isVerified: true })
  await bridge.state.set('users', 'u2', { isVerified: false })
  await bridge.emit('user.action', { userId: 'u2', action: 'pay' })
  await bridge.emit('user.action', { userId: 'u1', action: 'pay' })
  await eventually(async () => (await bridge.state.get('verified-actions', 'u1')) === 'pay')
  assert.equal(await bridge.state.get('verified-actions', 'u2'), null)

  // multi-trigger: steps.ProcessReport:trigger:{0,1,2}, one handler
  const r = await http(api, 'POST', '/reports', { range: 'week' })
  assert.deepEqual(r.body, { via: 'api', index: 0, data: { range: 'week' } })
  await bridge.emit('report.requested', { range: 'day' })
  assert.deepEqual(await eventually(() => bridge.state.get('reports', 'event')), {
    via: 'event',
    index: 1,
    data: { range: 'day' },
  })
  await motia.waitFor('Trigger index: 1')
  assert.match(motia.output(), /API POST \/reports/)
  assert.match(motia.output(), /Event report\.requested/)
  const fns = (await bridge.invokeFunction('engine.functions.list', {})).functions.map((f: any) => f.function_path)
  assert.ok(fns.includes('steps.ProcessReport:trigger:2'), 'the cron trigger is registered')
  const triggers = (await bridge.invokeFunction('engine.triggers.list', {})).triggers
  assert.ok(triggers.some((x: any) => x.trigger_type === 'cron' && x.config.expression === '0 * * * *'))

  // middleware: early 401s, ctx.user, X-Request-ID = trace id
  assert.deepEqual((await http(api, 'GET', '/protected')).body, { error: 'Unauthorized' })
  assert.deepEqual((await http(api, 'GET', '/protected', undefined, { authorization: 'nope' })).body, {
    error: 'Invalid token',
  })
  const ok = await http(api, 'GET', '/protected', undefined, { authorization: 'Bearer let-me-in' })
  assert.equal(ok.status, 200)
  assert.deepEqual(ok.body, { message: 'Hello, Ada' })
  assert.match(ok.headers.get('x-request-id') ?? '', /^[0-9a-f]{32}$/)

  // context: emit, state, the SDK Stream through motia's bridge
  const c = await http(api, 'POST', '/context-tour', {})
  assert.equal(c.status, 200)
  // Given back as it was set (issue 13 item 4: the engine no longer injects an id).
  assert.deepEqual(c.body.item, { title: 'Buy milk', completed: false })
  assert.equal(c.body.theme, 'dark')
  assert.equal(c.body.count, 1)
  const created = await eventually(() => bridge.state.get('users-created', '123'))
  assert.equal(created.traceId, c.body.traceId)
})
