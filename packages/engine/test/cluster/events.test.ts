// Durable events on Redis across three real engines on one real redis-server: one queue for
// the cluster, so an emit on any engine is delivered once per subscription to a worker on any
// engine, retries and dead letters are the same everywhere, a kill -9 of the engine holding a
// delivery hands it to another engine after the lease, FIFO groups keep their order across
// engines, and an idempotency key dedups emits made through different engines.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, hasRedis } from '@iii-dev/testkit'
import { CallError, RawBridge, sleep } from '../fixtures/streams-helpers.ts'
import { startCluster } from './fixtures.ts'

const skip = hasRedis() ? false : 'redis-server is not installed'
const fixed = (ms: number) => ({ type: 'fixed', initial_ms: ms, max_ms: ms, jitter: false })

/** Waits until the shared queue knows the subscription (its engine stored it in Redis). */
async function subscribed(client: RawBridge, topic: string, fn: string): Promise<void> {
  await eventually(async () => {
    const { subscriptions } = await client.call('events.stats', {})
    return subscriptions.some(
      (s: { topic: string; function_path: string }) => s.topic === topic && s.function_path === fn,
    )
  })
}

async function stats(client: RawBridge, topic: string, fn: string) {
  const { subscriptions } = await client.call('events.stats', {})
  return subscriptions.find(
    (s: { topic: string; function_path: string }) => s.topic === topic && s.function_path === fn,
  )
}

test('an emit on engine A is handled once by a worker on B; replicas on B and C share it; idempotency spans engines', {
  skip,
}, async (t) => {
  const { engines } = await startCluster(t)
  const [a, b, c] = engines
  const handled: Array<{ on: string; n: number }> = []
  const onB = await RawBridge.connect(b.bridgeUrl, t)
  onB.registerFunction('orders.handle', (d) => void handled.push({ on: 'b', n: d.n }))
  onB.registerTrigger('ob', 'event', 'orders.handle', { topic: 'orders' })
  onB.registerFunction('solo.handle', (d) => void handled.push({ on: 'b-solo', n: d.n }))
  onB.registerTrigger('sb', 'event', 'solo.handle', { topic: 'solo' })
  await onB.ready('orders.handle', 'solo.handle')
  const emitter = await RawBridge.connect(a.bridgeUrl, t)
  await subscribed(emitter, 'solo', 'solo.handle')

  // The only worker of the function is on B: A has no subscriber of its own and delivers nothing.
  const first = await emitter.call('emit', { topic: 'solo', data: { n: 1 } })
  assert.equal(first.duplicate, false)
  await eventually(() => handled.some((h) => h.on === 'b-solo'))
  await sleep(500)
  assert.deepEqual(
    handled.filter((h) => h.on === 'b-solo'),
    [{ on: 'b-solo', n: 1 }],
  )

  // Replicas on B and C share one subscription: 40 emits through A and C, each handled once.
  const onC = await RawBridge.connect(c.bridgeUrl, t)
  onC.registerFunction('orders.handle', (d) => void handled.push({ on: 'c', n: d.n }))
  onC.registerTrigger('oc', 'event', 'orders.handle', { topic: 'orders' })
  await onC.ready('orders.handle')
  await subscribed(emitter, 'orders', 'orders.handle')
  const fromC = await RawBridge.connect(c.bridgeUrl, t)
  await Promise.all(
    Array.from({ length: 40 }, (_, n) => (n % 2 ? emitter : fromC).call('emit', { topic: 'orders', data: { n } })),
  )
  await eventually(() => handled.filter((h) => h.on !== 'b-solo').length >= 40, 10_000)
  await sleep(500)
  const orders = handled.filter((h) => h.on !== 'b-solo')
  assert.deepEqual(
    orders.map((h) => h.n).sort((x, y) => x - y),
    Array.from({ length: 40 }, (_, n) => n),
    'every event handled exactly once',
  )
  t.diagnostic(
    `handled on b: ${orders.filter((h) => h.on === 'b').length}, on c: ${orders.filter((h) => h.on === 'c').length}`,
  )

  // The same idempotency key through A and then C: one event, delivered once.
  const one = await emitter.call('emit', { topic: 'solo', data: { n: 2 }, idempotency_key: 'k-1' })
  const two = await fromC.call('emit', { topic: 'solo', data: { n: 3 }, idempotency_key: 'k-1' })
  assert.deepEqual(two, { event_id: one.event_id, duplicate: true })
  await eventually(() => handled.some((h) => h.on === 'b-solo' && h.n === 2))
  await sleep(500)
  assert.deepEqual(
    handled.filter((h) => h.on === 'b-solo').map((h) => h.n),
    [1, 2],
  )
})

test('an always-throwing subscriber on C: exactly max_attempts tries, a dead letter seen from every engine, redriven from A', {
  skip,
}, async (t) => {
  const { engines } = await startCluster(t)
  const [a, b, c] = engines
  const attempts: Array<{ attempt: number; at: number }> = []
  let broken = true
  const onC = await RawBridge.connect(c.bridgeUrl, t)
  onC.registerFunction('pay.handle', (_d, trigger) => {
    attempts.push({ attempt: trigger?.attempt, at: Date.now() })
    if (broken) throw new Error('card declined')
    return { ok: true }
  })
  onC.registerTrigger('pc', 'event', 'pay.handle', { topic: 'pay', max_attempts: 3, backoff: fixed(300) })
  await onC.ready('pay.handle')
  const onA = await RawBridge.connect(a.bridgeUrl, t)
  const onB = await RawBridge.connect(b.bridgeUrl, t)
  await subscribed(onA, 'pay', 'pay.handle')
  const { event_id } = await onA.call('emit', { topic: 'pay', data: { amount: 5 } })

  for (const client of [onA, onB]) {
    await eventually(async () => (await client.call('events.deadLetters.list', {})).items.length === 1, 10_000)
  }
  await sleep(800)
  assert.deepEqual(
    attempts.map((x) => x.attempt),
    [1, 2, 3],
    'tried exactly max_attempts times',
  )
  for (let i = 1; i < 3; i++) {
    const gap = attempts[i].at - attempts[i - 1].at
    assert.ok(gap >= 250 && gap < 2500, `retry ${i} came after ${gap} ms (backoff 300 ms)`)
  }
  const [letter] = (await onB.call('events.deadLetters.list', { topic: 'pay' })).items
  assert.equal(letter.event_id, event_id)
  assert.equal(letter.function_path, 'pay.handle')
  assert.deepEqual(letter.data, { amount: 5 })
  assert.equal(letter.attempts, 3)
  assert.equal(letter.error.code, 'invocation_failed')
  assert.match(letter.error.message, /card declined/)
  assert.equal((await stats(onB, 'pay', 'pay.handle')).dead, 1)

  broken = false
  assert.deepEqual(await onA.call('events.deadLetters.redrive', { id: letter.id }), { redriven: 1 })
  await eventually(() => attempts.length === 4)
  await sleep(500)
  assert.equal(attempts.length, 4, 'the redriven event is delivered once')
  assert.equal(attempts[3].attempt, 1, 'a redriven event starts a fresh attempt count')
  assert.deepEqual((await onB.call('events.deadLetters.list', {})).items, [])
  assert.deepEqual(await stats(onA, 'pay', 'pay.handle'), {
    topic: 'pay',
    function_path: 'pay.handle',
    pending: 0,
    in_flight: 0,
    delayed: 0,
    dead: 0,
  })
})

test('kill -9 of the engine whose worker holds a delivery: another engine delivers it after the lease', {
  skip,
}, async (t) => {
  const { engines } = await startCluster(t)
  const [a, b, c] = engines
  const seen: Array<{ on: string; attempt: number; n: number }> = []
  const onB = await RawBridge.connect(b.bridgeUrl, t)
  // B's worker takes the event and never answers: B holds it in flight when it is killed.
  onB.registerFunction('job.run', (d, trigger) => {
    seen.push({ on: 'b', attempt: trigger?.attempt, n: d.n })
    return new Promise(() => {})
  })
  onB.registerTrigger('jb', 'event', 'job.run', { topic: 'jobs', timeout_ms: 4000 })
  await onB.ready('job.run')
  const onA = await RawBridge.connect(a.bridgeUrl, t)
  await subscribed(onA, 'jobs', 'job.run')
  await onA.call('emit', { topic: 'jobs', data: { n: 7 } })
  await eventually(() => seen.length === 1)
  assert.equal((await stats(onA, 'jobs', 'job.run')).in_flight, 1)

  const onC = await RawBridge.connect(c.bridgeUrl, t)
  onC.registerFunction('job.run', (d, trigger) => void seen.push({ on: 'c', attempt: trigger?.attempt, n: d.n }))
  onC.registerTrigger('jc', 'event', 'job.run', { topic: 'jobs', timeout_ms: 4000 })
  await onC.ready('job.run')
  const killedAt = Date.now()
  await b.kill()
  // The lease is the attempt's timeout plus 5 s of slack: C takes the delivery once it ends.
  await eventually(() => seen.length === 2, 20_000)
  const waited = Date.now() - killedAt
  await sleep(500)
  assert.deepEqual(seen, [
    { on: 'b', attempt: 1, n: 7 },
    { on: 'c', attempt: 2, n: 7 },
  ])
  assert.ok(waited < 15_000, `redelivered ${waited} ms after the kill`)
  t.diagnostic(`redelivered by C ${waited} ms after B was killed`)
  assert.deepEqual(await stats(onA, 'jobs', 'job.run'), {
    topic: 'jobs',
    function_path: 'job.run',
    pending: 0,
    in_flight: 0,
    delayed: 0,
    dead: 0,
  })
})

test('a FIFO group keeps emit order across workers on two engines, also behind a failing head', {
  skip,
}, async (t) => {
  const { engines } = await startCluster(t)
  const [a, b, c] = engines
  const order: Array<{ on: string; n: number; grp: string }> = []
  let running = 0
  let overlapped = false
  let failedOnce = false
  const handler = (on: string) => async (d: { n: number; grp: string }) => {
    running++
    if (running > 1 && d.grp === 'g') overlapped = true
    await sleep(5)
    running--
    if (d.grp === 'g' && d.n === 3 && !failedOnce) {
      failedOnce = true
      throw new Error('transient')
    }
    order.push({ on, n: d.n, grp: d.grp })
  }
  const fifo = { topic: 'ledger', fifo: true, backoff: fixed(200), concurrency: 4 }
  const onB = await RawBridge.connect(b.bridgeUrl, t)
  onB.registerFunction('ledger.apply', handler('b'))
  onB.registerTrigger('lb', 'event', 'ledger.apply', fifo)
  const onC = await RawBridge.connect(c.bridgeUrl, t)
  onC.registerFunction('ledger.apply', handler('c'))
  onC.registerTrigger('lc', 'event', 'ledger.apply', fifo)
  await onB.ready('ledger.apply')
  await onC.ready('ledger.apply')
  const onA = await RawBridge.connect(a.bridgeUrl, t)
  await subscribed(onA, 'ledger', 'ledger.apply')
  for (let n = 0; n < 12; n++) {
    await onA.call('emit', { topic: 'ledger', data: { n, grp: 'g' }, message_group_id: 'g' })
  }
  await eventually(() => order.filter((o) => o.grp === 'g').length === 12, 15_000)
  await sleep(300)
  const g = order.filter((o) => o.grp === 'g')
  assert.deepEqual(
    g.map((o) => o.n),
    Array.from({ length: 12 }, (_, n) => n),
    'handled in emit order; the failing 3 held the rest of its group',
  )
  assert.equal(overlapped, false, 'one delivery of the group at a time')
  assert.ok(failedOnce)
  t.diagnostic(`handled on b: ${g.filter((o) => o.on === 'b').length}, on c: ${g.filter((o) => o.on === 'c').length}`)
})

test('modules.event.adapter: sqlite under --redis keeps events per engine: the emitting engine delivers to B', {
  skip,
}, async (t) => {
  const { engines } = await startCluster(t, 2, { config: 'modules:\n  event:\n    adapter: sqlite\n' })
  const [a, b] = engines
  const got: number[] = []
  const onB = await RawBridge.connect(b.bridgeUrl, t)
  onB.registerFunction('local.handle', (d) => void got.push(d.n))
  onB.registerTrigger('lb', 'event', 'local.handle', { topic: 'local' })
  await onB.ready('local.handle')
  const onA = await RawBridge.connect(a.bridgeUrl, t)
  // A mirrors B's trigger into its own embedded queue (the stats of A's own store show it).
  await subscribed(onA, 'local', 'local.handle')
  for (const n of [1, 2, 3]) await onA.call('emit', { topic: 'local', data: { n } })
  await eventually(() => got.length === 3)
  await sleep(300)
  assert.deepEqual(got, [1, 2, 3])
  assert.equal((await stats(onB, 'local', 'local.handle'))?.pending ?? 0, 0)
})

test('Redis restarted under a stream of emits: store_unavailable fast, then every acknowledged event is handled', {
  skip,
}, async (t) => {
  const { redis, engines } = await startCluster(t, 3, { aof: true })
  const [a, b, c] = engines
  const handled = new Set<number>()
  const onB = await RawBridge.connect(b.bridgeUrl, t)
  onB.registerFunction('audit.write', (d) => void handled.add(d.n))
  // A claim whose reply was lost when Redis died leaves its deliveries leased in Redis: they
  // come back when the lease (timeout_ms + 5 s) ends.
  onB.registerTrigger('ab', 'event', 'audit.write', { topic: 'audit', backoff: fixed(100), timeout_ms: 2000 })
  await onB.ready('audit.write')
  const emitters = await Promise.all([a, c].map((e) => RawBridge.connect(e.bridgeUrl, t)))
  await subscribed(emitters[0], 'audit', 'audit.write')
  const acked = new Set<number>()
  let unavailable = 0
  let slowest = 0
  let next = 0
  let running = true
  const lane = async (client: RawBridge) => {
    while (running) {
      const n = next++
      const started = Date.now()
      try {
        await client.call('emit', { topic: 'audit', data: { n } })
        acked.add(n)
      } catch (err) {
        assert.ok(err instanceof CallError, String(err))
        assert.equal(err.code, 'store_unavailable', err.message)
        unavailable++
        await sleep(20)
      }
      slowest = Math.max(slowest, Date.now() - started)
    }
  }
  const lanes = emitters.flatMap((e) => [lane(e), lane(e)])
  await eventually(() => acked.size >= 100, 10_000)
  await redis.kill()
  await eventually(() => unavailable >= 10, 4000)
  await sleep(500)
  await redis.restart()
  const before = acked.size
  await eventually(() => acked.size > before + 100, 10_000)
  running = false
  await Promise.all(lanes)
  await eventually(() => [...acked].every((n) => handled.has(n)), 20_000).catch(() => {})
  const missing = [...acked].filter((n) => !handled.has(n))
  assert.deepEqual(missing, [], `${missing.length} acknowledged events never handled`)
  assert.ok(slowest < 3500, `an emit took ${slowest} ms (commands time out after 3 s)`)
  for (const e of engines) assert.equal(e.proc.exitCode, null, 'every engine stayed up')
  t.diagnostic(`${acked.size} acknowledged, ${unavailable} store_unavailable, ${handled.size} handled`)
})
