/**
 * Durable events through a real engine process and its real SQLite file: retries with backoff
 * (R7), dead letters and their built-ins, FIFO groups, idempotency, delay, timeouts, replicas,
 * subscription TTL, retention, bad input, and `durable: false`.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type EngineProcess, eventually, startEngine } from '@iii-dev/testkit'
import { type Frame, NO_ANSWER, RawClient, sleep } from './raw.ts'

type Handler = (data: any, frame: Frame) => unknown

/** A worker serving `fn` with an `event` trigger on `topic`; resolves once the trigger is active. */
async function subscriber(
  t: { after(fn: () => unknown): void },
  engine: EngineProcess,
  fn: string,
  config: Record<string, unknown>,
  handler: Handler,
  id = `${fn}#${Math.random().toString(36).slice(2, 8)}`,
): Promise<RawClient> {
  const c = await RawClient.connect(t, engine.bridgeUrl)
  c.register(fn, handler)
  c.send({ type: 'registertrigger', id, trigger_type: 'event', function_path: fn, config })
  await eventually(async () => (await c.call('engine.triggers.list', {})).result.triggers.some((x: any) => x.id === id))
  return c
}

/** Answers an invocation with an error frame of our choosing. */
function answerError(c: RawClient, frame: Frame, error: Record<string, unknown>): typeof NO_ANSWER {
  c.send({ type: 'invocationresult', invocation_id: frame.invocation_id, function_path: frame.function_path, error })
  return NO_ANSWER
}

const fast = { backoff: { type: 'fixed', initial_ms: 50, max_ms: 50, jitter: false } }

describe('durable events', () => {
  test('R7: an always-throwing handler runs exactly max_attempts times with the backoff, then is a dead letter; redrive delivers it once fixed', async (t) => {
    const engine = await startEngine(t)
    const times: number[] = []
    const attempts: number[] = []
    let fixed = false
    const got: any[] = []
    const w = await subscriber(
      t,
      engine,
      'r7.fn',
      {
        topic: 'r7',
        max_attempts: 4,
        backoff: { type: 'exponential', initial_ms: 100, max_ms: 1000, jitter: false },
      },
      (d, f) => {
        if (fixed) return void got.push({ d, attempt: f.trigger.attempt })
        times.push(Date.now())
        attempts.push(f.trigger.attempt)
        throw new Error('always fails')
      },
    )
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const emitted = await w.call('emit', { topic: 'r7', data: { order: 7, items: ['a'] } }, { traceparent })
    assert.equal(emitted.result.duplicate, false)
    const event_id = emitted.result.event_id
    const list = async () => (await w.call('events.deadLetters.list', {})).result
    await eventually(async () => (await list()).items.length === 1, 5000)
    await sleep(400)
    assert.deepEqual(attempts, [1, 2, 3, 4], 'exactly max_attempts attempts')
    const gaps = times.slice(1).map((x, i) => x - times[i])
    for (const [i, expected] of [100, 200, 400].entries()) {
      assert.ok(gaps[i] >= expected - 5 && gaps[i] < expected + 150, `gap ${i + 1} was ${gaps[i]} ms, not ~${expected}`)
    }
    const [dead] = (await list()).items
    assert.equal(dead.event_id, event_id)
    assert.equal(dead.topic, 'r7')
    assert.equal(dead.function_path, 'r7.fn')
    assert.deepEqual(dead.data, { order: 7, items: ['a'] })
    assert.deepEqual(dead.error, { code: 'invocation_failed', message: 'always fails' })
    assert.equal(dead.attempts, 4)
    assert.ok(Math.abs(dead.first_attempt_ms - times[0]) < 50)
    assert.ok(dead.failed_at_ms >= times[3] - 5)
    assert.equal(dead.trace_id, '0af7651916cd43dd8448eb211c80319c')
    const stats = (await w.call('events.stats', {})).result.subscriptions
    assert.deepEqual(stats, [{ topic: 'r7', function_path: 'r7.fn', pending: 0, in_flight: 0, delayed: 0, dead: 1 }])

    fixed = true
    assert.deepEqual((await w.call('events.deadLetters.redrive', { id: dead.id })).result, { redriven: 1 })
    await eventually(() => got.length === 1)
    await sleep(200)
    assert.deepEqual(got, [{ d: { order: 7, items: ['a'] }, attempt: 1 }])
    assert.deepEqual((await list()).items, [])
  })

  test('non_retryable dead-letters at once; retry_after_ms replaces the backoff; discard deletes', async (t) => {
    const engine = await startEngine(t)
    const seen: Array<{ n: number; attempt: number; at: number }> = []
    const w = await subscriber(t, engine, 'nr.fn', { topic: 'nr', max_attempts: 5, ...fast }, (d, f) => {
      seen.push({ n: d.n, attempt: f.trigger.attempt, at: Date.now() })
      if (d.n === 1) return answerError(w, f, { code: 'non_retryable', message: 'bad order' })
      if (f.trigger.attempt === 1) {
        return answerError(w, f, { code: 'rate_limited', message: 'later', details: { retry_after_ms: 400 } })
      }
      return 'ok'
    })
    await w.call('emit', { topic: 'nr', data: { n: 1 } })
    await w.call('emit', { topic: 'nr', data: { n: 2 } })
    await eventually(() => seen.filter((s) => s.n === 2).length === 2, 3000)
    const one = seen.filter((s) => s.n === 1)
    assert.equal(one.length, 1, 'a non_retryable failure is not retried')
    const [first, second] = seen.filter((s) => s.n === 2)
    assert.ok(second.at - first.at >= 395, `retried after ${second.at - first.at} ms, not after retry_after_ms`)
    const { items } = (await w.call('events.deadLetters.list', { topic: 'nr' })).result
    assert.equal(items.length, 1)
    assert.deepEqual(items[0].error, { code: 'non_retryable', message: 'bad order' })
    assert.equal(items[0].attempts, 1)
    assert.deepEqual((await w.call('events.deadLetters.discard', { function_path: 'nr.fn' })).result, { discarded: 1 })
    assert.deepEqual((await w.call('events.deadLetters.list', {})).result.items, [])
  })

  test('FIFO: a failing event holds only its group, which keeps emit order; other groups flow', async (t) => {
    const engine = await startEngine(t)
    const done: string[] = []
    const active = new Map<string, number>()
    let overlap = false
    const w = await subscriber(
      t,
      engine,
      'fifo.fn',
      { topic: 'fifo', fifo: true, concurrency: 8, max_attempts: 5, backoff: { type: 'fixed', initial_ms: 150 } },
      async (d, f) => {
        const g = d.id[0]
        if ((active.get(g) ?? 0) > 0) overlap = true
        active.set(g, (active.get(g) ?? 0) + 1)
        await sleep(10)
        active.set(g, (active.get(g) ?? 0) - 1)
        if (d.id === 'a1' && f.trigger.attempt < 3) throw new Error('not yet')
        done.push(d.id)
      },
    )
    const ids = ['a1', 'b1', 'a2', 'b2', 'a3', 'b3', 'a4', 'b4']
    await Promise.all(ids.map((id) => w.call('emit', { topic: 'fifo', data: { id }, message_group_id: id[0] })))
    await eventually(() => done.length === 8, 5000)
    assert.deepEqual(
      done.filter((x) => x[0] === 'a'),
      ['a1', 'a2', 'a3', 'a4'],
    )
    assert.deepEqual(
      done.filter((x) => x[0] === 'b'),
      ['b1', 'b2', 'b3', 'b4'],
    )
    assert.ok(done.indexOf('b4') < done.indexOf('a1'), `group b waited for group a: ${done}`)
    assert.equal(overlap, false, 'two events of one group ran at once')
  })

  test('idempotency_key dedups an emit per topic; delay_ms delays delivery', async (t) => {
    const engine = await startEngine(t)
    const got: Array<{ d: any; at: number }> = []
    const w = await subscriber(t, engine, 'idem.fn', { topic: 'idem' }, (d) => void got.push({ d, at: Date.now() }))
    const first = (await w.call('emit', { topic: 'idem', data: 1, idempotency_key: 'order-1' })).result
    const again = (await w.call('emit', { topic: 'idem', data: 2, idempotency_key: 'order-1' })).result
    assert.deepEqual(again, { event_id: first.event_id, duplicate: true })
    const elsewhere = (await w.call('emit', { topic: 'other', data: 3, idempotency_key: 'order-1' })).result
    assert.equal(elsewhere.duplicate, false)
    await eventually(() => got.length === 1)

    const sent = Date.now()
    const delayed = await w.call('emit', { topic: 'idem', data: 'later', delay_ms: 400 })
    assert.equal(delayed.result.duplicate, false)
    const stats = (await w.call('events.stats', {})).result.subscriptions
    assert.equal(stats[0].delayed, 1)
    await eventually(() => got.length === 2, 3000)
    assert.deepEqual(
      got.map((g) => g.d),
      [1, 'later'],
    )
    assert.ok(got[1].at - sent >= 395, `delivered ${got[1].at - sent} ms after the emit`)
  })

  test('bad trigger config and bad emit input get a coded error naming the field; nothing is stored', async (t) => {
    const engine = await startEngine(t)
    let handled = 0
    const w = await subscriber(t, engine, 'bad.fn', { topic: 'bad' }, () => void handled++)
    const triggers: Array<[Record<string, unknown>, RegExp]> = [
      [{ topic: 'bad', retries: 3 }, /unknown field "retries"/],
      [{ topic: 'bad', max_attempts: 1000 }, /config\.max_attempts must be an integer from 1 to 100 \(got 1000\)/],
      [{ topic: 'bad', max_attempts: -1 }, /config\.max_attempts/],
      [{ topic: 'bad', backoff: { type: 'linear' } }, /config\.backoff\.type/],
      [{ topic: 'bad', backoff: { initial_ms: 5000, max_ms: 10 } }, /initial_ms/],
      [{ topic: 'bad', concurrency: 0 }, /config\.concurrency/],
      [{ topic: 'bad', fifo: 'yes' }, /config\.fifo must be true or false/],
      [{ topic: 7 }, /config\.topic/],
    ]
    for (const [i, [config, message]] of triggers.entries()) {
      w.send({ type: 'registertrigger', id: `bad-${i}`, trigger_type: 'event', function_path: 'bad.other', config })
      const err = await w.next((f) => f.type === 'error' && f.ref === `bad-${i}`)
      assert.equal(err.code, 'invalid_trigger')
      assert.match(err.message, message)
    }
    const emits: Array<[Record<string, unknown>, RegExp]> = [
      [{ topic: 'bad', data: 1, delay_ms: -5 }, /delay_ms must be an integer/],
      [{ topic: 'bad', data: 1, delay_ms: 1e12 }, /delay_ms/],
      [{ topic: 'bad', data: 1, idempotency_key: 5 }, /idempotency_key must be a non-empty string/],
      [{ topic: 'bad', data: 1, message_group_id: '' }, /message_group_id/],
      [{ topic: 'bad', data: 1, priority: 'high' }, /unknown field "priority"/],
      [{ data: 1 }, /topic/],
    ]
    for (const [input, message] of emits) {
      const answer = await w.call('emit', input)
      assert.equal(answer.error?.code, 'invalid_argument', JSON.stringify(input))
      assert.match(answer.error.message, message)
    }
    await sleep(150)
    assert.equal(handled, 0)
    const stats = (await w.call('events.stats', {})).result.subscriptions
    assert.deepEqual(stats, [{ topic: 'bad', function_path: 'bad.fn', pending: 0, in_flight: 0, delayed: 0, dead: 0 }])
    const bad = await w.call('events.deadLetters.list', { limit: 0 })
    assert.equal(bad.error.code, 'invalid_argument')
  })

  test('replicas share one subscription: each event is handled once, by one of them', async (t) => {
    const engine = await startEngine(t)
    const seen = new Map<number, number>()
    const byReplica = [0, 0, 0]
    const replicas = await Promise.all(
      [0, 1, 2].map((r) =>
        subscriber(t, engine, 'rep.fn', { topic: 'rep' }, async (d) => {
          byReplica[r]++
          seen.set(d.n, (seen.get(d.n) ?? 0) + 1)
          await sleep(5)
        }),
      ),
    )
    await Promise.all(Array.from({ length: 60 }, (_, n) => replicas[n % 3].call('emit', { topic: 'rep', data: { n } })))
    await eventually(() => seen.size === 60)
    await sleep(200)
    for (const [n, count] of seen) assert.equal(count, 1, `event ${n} handled ${count} times`)
    assert.ok(byReplica.filter((x) => x > 0).length >= 2, `one replica did all the work: ${byReplica}`)
  })

  test('a worker that disconnects mid-attempt: its delivery goes to another replica at once, without backoff', async (t) => {
    const engine = await startEngine(t)
    const slow = { topic: 'dc', backoff: { type: 'fixed', initial_ms: 10_000, max_ms: 10_000 } }
    let started = 0
    const a = await subscriber(t, engine, 'dc.fn', slow, () => {
      started++
      return NO_ANSWER
    })
    await a.call('emit', { topic: 'dc', data: 'x' })
    await eventually(() => started === 1)
    const got: any[] = []
    await subscriber(t, engine, 'dc.fn', slow, (d, f) => void got.push({ d, attempt: f.trigger.attempt }))
    const closedAt = Date.now()
    a.close()
    await eventually(() => got.length === 1, 3000)
    assert.ok(Date.now() - closedAt < 1500, 'redelivered without waiting for the backoff')
    assert.deepEqual(got, [{ d: 'x', attempt: 2 }])
  })

  test('timeout_ms: an attempt that never answers fails with invocation_timeout and is retried', async (t) => {
    const engine = await startEngine(t)
    let calls = 0
    const w = await subscriber(t, engine, 'to.fn', { topic: 'to', timeout_ms: 150, max_attempts: 2, ...fast }, () => {
      calls++
      return NO_ANSWER
    })
    const sent = Date.now()
    await w.call('emit', { topic: 'to', data: null })
    await eventually(async () => (await w.call('events.deadLetters.list', {})).result.items.length === 1, 3000)
    const [dead] = (await w.call('events.deadLetters.list', {})).result.items
    assert.equal(calls, 2)
    assert.equal(dead.error.code, 'invocation_timeout')
    assert.equal(dead.attempts, 2)
    assert.ok(Date.now() - sent >= 350)
  })

  test('a subscription waits subscription_ttl_ms for its workers, then its events become dead letters, kept for dead_letter_retention_ms', async (t) => {
    const engine = await startEngine(t, {
      config:
        'modules:\n  event:\n    subscription_ttl_ms: 500\n    sweep_interval_ms: 50\n    dead_letter_retention_ms: 1000\n',
    })
    const got: any[] = []
    const first = await subscriber(t, engine, 'ttl.fn', { topic: 'ttl' }, (d) => void got.push(d))
    first.close()
    await first.closed
    await sleep(50)
    const emitter = await RawClient.connect(t, engine.bridgeUrl)
    assert.equal((await emitter.call('emit', { topic: 'ttl', data: 'waits' })).result.duplicate, false)
    await sleep(200)
    const back = await subscriber(t, engine, 'ttl.fn', { topic: 'ttl' }, (d) => void got.push(d))
    await eventually(() => got.length === 1)
    assert.deepEqual(got, ['waits'])

    back.close()
    await back.closed
    await sleep(50)
    await emitter.call('emit', { topic: 'ttl', data: 'expires' })
    const list = async () => (await emitter.call('events.deadLetters.list', {})).result.items
    await eventually(async () => (await list()).length === 1, 3000)
    const [dead] = await list()
    assert.equal(dead.data, 'expires')
    assert.equal(dead.error.code, 'function_not_found')
    assert.equal(dead.attempts, 0)
    await subscriber(t, engine, 'ttl.fn', { topic: 'ttl' }, (d) => void got.push(d))
    await sleep(150)
    assert.deepEqual(got, ['waits'], 'an expired delivery is not delivered')
    await eventually(async () => (await list()).length === 0, 3000)
    assert.ok(Date.now() - dead.failed_at_ms >= 1000, 'dead letters are kept for the retention')
  })

  test('durable: false keeps the in-memory fan-out: once per trigger, no retry, emit answers null', async (t) => {
    const engine = await startEngine(t, { config: 'modules:\n  event:\n    durable: false\n' })
    let calls = 0
    const w = await subscriber(t, engine, 'mem.fn', { topic: 'mem', max_attempts: 5 }, () => {
      calls++
      throw new Error('lost')
    })
    const emitted = await w.call('emit', { topic: 'mem', data: 1 })
    assert.equal(emitted.error, undefined)
    assert.equal('result' in emitted, false, 'the null answer is left out of the frame (read as null)')
    await sleep(300)
    assert.equal(calls, 1)
    assert.equal((await w.call('events.stats', {})).error.code, 'function_not_found')
    assert.equal((await w.call('emit', { topic: 'mem', data: 1, delay_ms: 5 })).error.code, 'invalid_argument')
  })
})
