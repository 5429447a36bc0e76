/**
 * Compatibility with the original iii engine (issue 13), streams side, as raw frames through a
 * real engine process: aliases, stream auth the original way, custom stream backends served by
 * `streams.<op>(<name>)` worker functions, and the original config file shape.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { hasRedis, startEngine, startRedis } from '@iii-dev/testkit'
import { Redis } from 'ioredis'
import { RawBridge, RawStreamClient } from './fixtures/streams-helpers.ts'

test('state.list and streams.list are getGroup under the original names (compat 4)', async (t) => {
  const engine = await startEngine(t)
  const b = await RawBridge.connect(engine.bridgeUrl, t)
  await b.call('state.set', { group_id: 'g', item_id: 'a', data: { n: 1 } })
  await b.call('streams.set', { stream_name: 's', group_id: 'g', item_id: 'a', data: { n: 2 } })
  assert.deepEqual(await b.call('state.list', { group_id: 'g' }), [{ n: 1 }])
  assert.deepEqual(await b.call('streams.list', { stream_name: 's', group_id: 'g' }), [{ n: 2 }])
  assert.equal((await b.callError('state.list', {})).code, 'invalid_argument')
})

test('stream auth the original way: {context} unwrapped, query_params as arrays, addr ip:port (compat 10)', async (t) => {
  const engine = await startEngine(t, { config: 'modules:\n  streams:\n    auth_function: orig.auth\n' })
  const w = await RawBridge.connect(engine.bridgeUrl, t)
  const seen: any[] = []
  const joins: any[] = []
  w.registerFunction('orig.auth', (req) => {
    seen.push(req)
    return req.query_params.token?.[0] === 'ok' ? { context: { user: 'ann' } } : { context: null, extra: 1 }
  })
  w.registerFunction('on.join', (d) => void joins.push(d))
  w.registerTrigger('j', 'streams:join', 'on.join', {})
  await w.ready('orig.auth', 'on.join')
  const c = await RawStreamClient.connect(`${engine.streamsUrl}/?token=ok&tag=a&tag=b`, t)
  assert.deepEqual(seen[0].query_params, { token: ['ok'], tag: ['a', 'b'] })
  assert.match(seen[0].addr, /^127\.0\.0\.1:\d+$/)
  c.join('s1', 'rooms', 'lobby')
  await c.waitFor((m) => m.subscriptionId === 's1' && m.event.type === 'sync')
  assert.deepEqual(joins[0].context, { user: 'ann' })
})

test('a stream served by streams.<op>(<name>) worker functions, as createStream registered them (compat 11)', async (t) => {
  const engine = await startEngine(t)
  const backend = await RawBridge.connect(engine.bridgeUrl, t)
  const rows = new Map<string, any>([['a', { title: 'from the backend' }]])
  const calls: string[] = []
  backend.registerFunction('streams.get(custom)', (d) => {
    calls.push(`get ${d.item_id}`)
    return rows.get(d.item_id) ?? null
  })
  backend.registerFunction('streams.set(custom)', (d) => {
    calls.push(`set ${d.item_id}`)
    const existed = rows.has(d.item_id)
    rows.set(d.item_id, d.data)
    return { existed, data: d.data }
  })
  backend.registerFunction('streams.delete(custom)', (d) => {
    calls.push(`delete ${d.item_id}`)
    const old = rows.get(d.item_id) ?? null
    rows.delete(d.item_id)
    return old
  })
  backend.registerFunction('streams.getGroup(custom)', () => {
    calls.push('getGroup')
    return [...rows.entries()].map(([id, v]) => ({ ...v, id }))
  })
  await backend.ready(
    'streams.get(custom)',
    'streams.set(custom)',
    'streams.delete(custom)',
    'streams.getGroup(custom)',
  )

  const client = await RawStreamClient.connect(engine.streamsUrl, t)
  client.join('g', 'custom', 'any')
  const sync = await client.waitFor((m) => m.subscriptionId === 'g' && m.event.type === 'sync')
  assert.deepEqual(sync.event.data, [{ title: 'from the backend', id: 'a' }])

  const caller = await RawBridge.connect(engine.bridgeUrl, t)
  const key = { stream_name: 'custom', group_id: 'any' }
  assert.deepEqual(await caller.call('streams.get', { ...key, item_id: 'a' }), { title: 'from the backend' })
  assert.deepEqual(await caller.call('streams.set', { ...key, item_id: 'b', data: { title: 'new' } }), {
    existed: false,
    data: { title: 'new' },
  })
  const created = await client.waitFor((m) => m.event.type === 'create')
  assert.deepEqual(created.event.data, { title: 'new', id: 'b' })
  await caller.call('streams.set', { ...key, item_id: 'b', data: { title: 'newer' } })
  assert.equal((await client.waitFor((m) => m.event.type === 'update')).event.data.title, 'newer')
  assert.deepEqual(await caller.call('streams.delete', { ...key, item_id: 'b' }), { title: 'newer' })
  assert.deepEqual((await client.waitFor((m) => m.event.type === 'delete')).event.data, { title: 'newer', id: 'b' })
  assert.equal((await caller.call('streams.getGroup', key)).length, 1)
  assert.deepEqual(calls, ['getGroup', 'get a', 'set b', 'set b', 'delete b', 'getGroup'])
  assert.equal(rows.size, 1)
  // Other streams still use the engine's store.
  await caller.call('streams.set', { stream_name: 'plain', group_id: 'g', item_id: 'x', data: { v: 1 } })
  assert.deepEqual(await caller.call('streams.get', { stream_name: 'plain', group_id: 'g', item_id: 'x' }), { v: 1 })
})

test('the original config file shape starts the engine, maps known classes and warns once per unknown one (compat 12)', async (t) => {
  const config = [
    'modules:',
    '  - class: modules::api::RestApiModule',
    '    config:',
    '      port: "${API_PORT:0}"',
    '      default_timeout: 400',
    '      concurrency_request_limit: 1024',
    '  - class: modules::stream::StreamModule',
    '    config:',
    '      adapter:',
    '        class: modules::stream::adapters::KvStore',
    '        config: { store_method: in_memory, file_path: ./data/stream_store }',
    '  - class: modules::observability::OtelModule',
    '    config: { enabled: false }',
    '  - class: modules::observability::OtelModule',
    '  - class: modules::shell::ExecModule',
    '    config: { exec: [ "npx motia dev" ] }',
    '',
  ].join('\n')
  const engine = await startEngine(t, { config })
  const out = engine.output()
  assert.equal(out.match(/module class modules::observability::OtelModule is not available/g)?.length, 1)
  assert.match(out, /module class modules::shell::ExecModule is not available/)
  assert.match(out, /modules::api::RestApiModule: concurrency_request_limit has no equivalent here/)

  const w = await RawBridge.connect(engine.bridgeUrl, t)
  w.registerFunction('never.answers', () => new Promise(() => {}))
  w.registerTrigger('slow', 'api', 'never.answers', { api_path: 'slow', http_method: 'GET' })
  await w.ready('never.answers')
  await new Promise((r) => setTimeout(r, 200))
  const started = Date.now()
  const res = await fetch(`${engine.apiUrl}/slow`)
  assert.equal(res.status, 504, 'default_timeout became the api timeout')
  assert.ok(Date.now() - started < 3000)
  // store_method: in_memory -> the memory adapter: no streams file is written.
  await w.call('streams.set', { stream_name: 's', group_id: 'g', item_id: 'i', data: {} })
  await w.call('state.set', { group_id: 'g', item_id: 'i', data: 1 })
  assert.ok(!existsSync(join(engine.dataDir, 'streams.db')))
  assert.ok(existsSync(join(engine.dataDir, 'state.db')))
})

test('the original config file: RedisAdapter state on a real redis-server, LoggingModule level, cors.allowed_origins, Event and Cron modules (compat 12)', {
  skip: hasRedis() ? false : 'redis-server is not installed',
}, async (t) => {
  const redis = await startRedis(t)
  const config = [
    'modules:',
    '  - class: modules::api::RestApiModule',
    '    config:',
    '      port: 0',
    '      cors: { allowed_origins: ["https://app.example"], allowed_methods: [GET] }',
    '  - class: modules::state::StateModule',
    '    config:',
    '      adapter:',
    '        class: modules::state::adapters::RedisAdapter',
    `        config: { redis_url: "${redis.url}" }`,
    '  - class: modules::event::EventModule',
    '    config:',
    '      adapter: { class: modules::event::RedisAdapter, config: { redis_url: "redis://nowhere:1" } }',
    '  - class: modules::cron::CronModule',
    '  - class: modules::observability::LoggingModule',
    '    config: { level: trace }',
    '',
  ].join('\n')
  const engine = await startEngine(t, { config })
  const w = await RawBridge.connect(engine.bridgeUrl, t)
  await w.call('state.set', { group_id: 'orig', item_id: 'a', data: { n: 1 } })
  // The state lives in the redis-server the file names, not in the embedded store.
  const client = new Redis(redis.url)
  t.after(() => client.quit())
  const keys = await client.keys('*orig*')
  assert.ok(keys.length > 0, 'state.set wrote nothing to redis')
  assert.ok(!existsSync(join(engine.dataDir, 'state.db')))
  assert.deepEqual(await w.call('state.get', { group_id: 'orig', item_id: 'a' }), { n: 1 })
  // cors.allowed_origins became cors.origins; allowed_methods is named as ignored.
  w.registerFunction('orig.hello', () => ({ status_code: 200, body: { hi: true } }))
  w.registerTrigger('hello', 'api', 'orig.hello', { api_path: 'hello', http_method: 'GET' })
  await w.ready('orig.hello')
  await new Promise((r) => setTimeout(r, 200))
  const res = await fetch(`${engine.apiUrl}/hello`, { headers: { origin: 'https://app.example' } })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example')
  const other = await fetch(`${engine.apiUrl}/hello`, { headers: { origin: 'https://evil.example' } })
  assert.notEqual(other.headers.get('access-control-allow-origin'), 'https://evil.example')
  const out = engine.output()
  assert.match(out, /RestApiModule: cors\.allowed_methods has no equivalent here/)
  assert.match(out, /EventModule: adapter modules::event::RedisAdapter has no equivalent here/)
  // level: warn -> debug: the engine's debug lines (a worker connecting) are printed.
  assert.match(out, /worker \S+ connected/)
})
