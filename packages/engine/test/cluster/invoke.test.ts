// One function space on three engines sharing one redis-server: a call made on engine A
// reaches the only worker of the function, on engine B, with the same results, errors and
// timeouts; HTTP requests to A reach a route registered on B; the lists show the cluster; and
// when B's worker or B itself dies, the caller on A hears `invocation_stopped` within 2 s and
// B's registrations leave the cluster within 5 s.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, hasRedis } from '@iii-dev/testkit'
import { CallError, RawBridge, sleep } from '../fixtures/streams-helpers.ts'
import { startCluster } from './fixtures.ts'

const skip = hasRedis() ? false : 'redis-server is not installed'

const listed = async (client: RawBridge, path: string) =>
  ((await client.call('engine.functions.list')).functions as Array<{ function_path: string; workers: number }>).find(
    (f) => f.function_path === path,
  )

test('a call on engine A runs on the worker of engine B: results, errors, timeouts, lists', { skip }, async (t) => {
  const { engines } = await startCluster(t)
  const [a, b, c] = engines
  const worker = await RawBridge.connect(b.bridgeUrl, t)
  worker.registerFunction('test.echo', (d) => ({ echoed: d, on: 'b' }))
  worker.registerFunction('test.fail', () => {
    throw new Error('nope')
  })
  worker.registerFunction('test.never', () => new Promise(() => {}))
  worker.registerTrigger('tb', 'api', 'test.echo', { api_path: '/hello', http_method: 'POST' })
  await worker.ready('test.echo', 'test.fail', 'test.never')

  const caller = await RawBridge.connect(a.bridgeUrl, t)
  await eventually(async () => (await listed(caller, 'test.echo'))?.workers === 1)
  assert.deepEqual(await caller.call('test.echo', { n: 1 }), { echoed: { n: 1 }, on: 'b' })
  const big = 'x'.repeat(200_000)
  assert.deepEqual(await caller.call('test.echo', { big }), { echoed: { big }, on: 'b' })

  const failed = await caller.callError('test.fail', {})
  assert.equal(failed.code, 'invocation_failed')
  assert.match(failed.message, /nope/)
  const started = Date.now()
  const late = await caller.call('test.never', {}, { timeout_ms: 300 }).catch((err: CallError) => err)
  assert.ok(late instanceof CallError)
  assert.equal(late.code, 'invocation_timeout')
  assert.ok(Date.now() - started < 1500, `the timeout took ${Date.now() - started} ms`)
  const missing = await caller.callError('test.nowhere', {})
  assert.equal(missing.code, 'function_not_found')

  // HTTP on A (and C) for a route a worker on B registered.
  for (const e of [a, c]) {
    const res = await eventually(async () => {
      const r = await fetch(`${e.apiUrl}/hello`, {
        method: 'POST',
        body: '{"x":1}',
        headers: { 'content-type': 'application/json' },
      })
      return r.status === 200 && r
    })
    const body = (await res.json()) as { echoed: { body: unknown } }
    assert.deepEqual(body.echoed.body, { x: 1 })
  }

  // Lists on C show the whole cluster.
  const onC = await RawBridge.connect(c.bridgeUrl, t)
  // The worker on B, the caller on A and this client on C (registry entries renew each second).
  const workers = await eventually(async () => {
    const list = (await onC.call('engine.workers.list')).workers
    return list.length === 3 && list
  })
  const remote = workers.find((w: { functions: string[] }) => w.functions.includes('test.echo'))
  assert.ok(remote, JSON.stringify(workers))
  assert.equal(typeof remote.engine_id, 'string')
  const { triggers } = await onC.call('engine.triggers.list')
  assert.deepEqual(
    triggers.filter((x: { function_path: string }) => x.function_path === 'test.echo').map((x: { id: string }) => x.id),
    ['tb'],
    'the route is listed once, under its own id',
  )
})

test('the worker of B dies mid-call: the caller on A gets invocation_stopped within 2 s', { skip }, async (t) => {
  const { engines } = await startCluster(t)
  const [a, b] = engines
  const worker = await RawBridge.connect(b.bridgeUrl, t)
  worker.registerFunction('test.hang', () => new Promise(() => {}))
  await worker.ready('test.hang')
  const caller = await RawBridge.connect(a.bridgeUrl, t)
  await eventually(async () => (await listed(caller, 'test.hang'))?.workers === 1)
  const pending = caller.call('test.hang', {}).catch((err: CallError) => err)
  await sleep(200)
  const killed = Date.now()
  worker.close()
  const err = await pending
  assert.ok(err instanceof CallError)
  assert.equal(err.code, 'invocation_stopped')
  assert.ok(Date.now() - killed < 2000, `took ${Date.now() - killed} ms`)
  await eventually(async () => (await listed(caller, 'test.hang')) === undefined, 5000)
})

test('engine B is killed mid-call: invocation_stopped within 2 s, its entries gone within 5 s', { skip }, async (t) => {
  const { engines } = await startCluster(t)
  const [a, b, c] = engines
  const worker = await RawBridge.connect(b.bridgeUrl, t)
  worker.registerFunction('test.hang', () => new Promise(() => {}))
  worker.registerTrigger('route', 'api', 'test.hang', { api_path: '/hang', http_method: 'GET' })
  await worker.ready('test.hang')
  const caller = await RawBridge.connect(a.bridgeUrl, t)
  const watcher = await RawBridge.connect(c.bridgeUrl, t)
  await eventually(async () => (await listed(caller, 'test.hang'))?.workers === 1)
  await eventually(async () => (await listed(watcher, 'test.hang'))?.workers === 1)
  const pending = caller.call('test.hang', {}).catch((err: CallError) => err)
  const http = fetch(`${a.apiUrl}/hang`)
  await sleep(300)
  const killed = Date.now()
  await b.kill()
  const err = await pending
  assert.ok(err instanceof CallError)
  assert.equal(err.code, 'invocation_stopped')
  assert.ok(Date.now() - killed < 2000, `took ${Date.now() - killed} ms`)
  assert.equal((await http).status, 503)
  await eventually(
    async () => {
      const { workers } = await watcher.call('engine.workers.list')
      const { triggers } = await watcher.call('engine.triggers.list')
      return (
        (await listed(watcher, 'test.hang')) === undefined &&
        !workers.some((w: { functions: string[] }) => w.functions.includes('test.hang')) &&
        !triggers.some((x: { id: string }) => x.id === 'route')
      )
    },
    5000 - (Date.now() - killed),
  )
  assert.ok(Date.now() - killed < 5000)
  assert.equal((await fetch(`${a.apiUrl}/hang`)).status, 404)
})

test('functions_available on engine A hears of B functions, and only when the list changes', { skip }, async (t) => {
  const { engines } = await startCluster(t, 2)
  const [a, b] = engines
  const watcher = await RawBridge.connect(a.bridgeUrl, t)
  const seen: string[][] = []
  watcher.registerFunction(
    'test.watch',
    (d) =>
      void seen.push(
        d.functions
          .map((f: { function_path: string }) => f.function_path)
          .filter((p: string) => p.startsWith('remote.')),
      ),
  )
  watcher.registerTrigger('fa', 'functions_available', 'test.watch', {})
  await watcher.ready('test.watch')
  const worker = await RawBridge.connect(b.bridgeUrl, t)
  worker.registerFunction('remote.one', () => 1)
  worker.registerFunction('remote.two', () => 2)
  await worker.ready('remote.one', 'remote.two')
  await eventually(() => seen.some((list) => list.includes('remote.one') && list.includes('remote.two')))
  const count = seen.length
  // Calls go on, heartbeats renew the entries: nothing in the list changes.
  for (let i = 0; i < 20; i++) await watcher.call('remote.one', {})
  await sleep(2500)
  assert.equal(seen.length, count, `notified again: ${JSON.stringify(seen.slice(count))}`)
})
