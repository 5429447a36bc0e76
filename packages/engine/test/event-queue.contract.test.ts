// One contract suite for every EventQueue, run against the SQLite queue on a real temporary
// database file and the Redis queue on a real redis-server started here.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { hasRedis, startRedis } from '@iii-dev/testkit'
import { DEFAULT_BACKOFF } from '../src/modules/event/policy.ts'
import type { EventQueue, RetryPolicy, SubscriptionKey } from '../src/modules/event/queue.ts'
import { RedisEventQueue } from '../src/modules/event/queue-redis.ts'
import { SqliteEventQueue } from '../src/modules/event/queue-sqlite.ts'

const tmp = mkdtempSync(join(tmpdir(), 'iii-queue-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
let n = 0
const redis = hasRedis() ? await startRedis(null) : null
after(() => redis?.stop())

interface Implementation {
  name: string
  /** A fresh, empty queue, and a way to open the same store again (a restart). */
  make: () => { queue: EventQueue; reopen: () => EventQueue }
}

const implementations: Implementation[] = [
  {
    name: 'sqlite',
    make: () => {
      const file = join(tmp, `q-${++n}`, 'events.db')
      return { queue: new SqliteEventQueue({ file }), reopen: () => new SqliteEventQueue({ file }) }
    },
  },
  {
    name: 'redis',
    // Each test gets its own key prefix on the one server, so tests start from an empty store;
    // `exclusive`: one queue at a time uses it, as one engine uses its SQLite file.
    make: () => {
      const prefix = `t${++n}:`
      const open = () => new RedisEventQueue({ url: redis?.url ?? '', prefix, exclusive: true })
      return { queue: open(), reopen: open }
    },
  },
]

const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
  max_attempts: 3,
  backoff: DEFAULT_BACKOFF,
  timeout_ms: 1000,
  concurrency: 16,
  fifo: false,
  ...over,
})
const A = { topic: 't', function_path: 'a' }
const B = { topic: 't', function_path: 'b' }
const T0 = 1_000_000
const DAY = 86_400_000
const err = { code: 'invocation_failed', message: 'boom' }
const sweepOpts = { subscription_ttl_ms: 1000, dead_letter_retention_ms: 5000 }

/** Claims for one subscription. */
async function claim1(q: EventQueue, key: SubscriptionKey, limit: number, now: number, leaseUntil: number) {
  return (await q.claim([{ key, limit, leaseUntil }], now))[0].deliveries
}

for (const impl of implementations) {
  const skip = impl.name === 'redis' && !redis ? 'redis-server is not installed' : false
  describe(`EventQueue contract: ${impl.name}`, { skip }, () => {
    const open = (t: { after(fn: () => unknown): void }) => {
      const made = impl.make()
      const opened = [made.queue]
      t.after(() => Promise.all(opened.map((q) => q.close())))
      return {
        q: made.queue,
        reopen: () => {
          const q = made.reopen()
          opened.push(q)
          return q
        },
      }
    }

    test('an event nobody subscribed to stores nothing; each subscription gets one delivery', async (t) => {
      const { q } = open(t)
      const [none] = await q.enqueue([{ topic: 't', data: '1' }], T0, DAY)
      assert.equal(none.duplicate, false)
      assert.equal(none.deliveries, 0)
      assert.equal(typeof none.event_id, 'string')
      await q.subscribe(A, policy(), T0)
      await q.subscribe(B, policy(), T0)
      const [r] = await q.enqueue([{ topic: 't', data: '{"x":"ü"}', traceparent: 'tp' }], T0, DAY)
      assert.equal(r.deliveries, 2)
      const [d] = await claim1(q, A, 10, T0, T0 + 100)
      assert.equal(d.event_id, r.event_id)
      assert.equal(d.data, '{"x":"ü"}')
      assert.equal(d.attempt, 1)
      assert.equal(d.function_path, 'a')
      assert.equal(d.traceparent, 'tp')
      assert.equal(d.first_attempt_ms, T0)
      assert.deepEqual(await claim1(q, A, 10, T0, T0 + 100), [], 'an in-flight delivery is not claimed twice')
      await q.ack([d.id])
      await q.ack([d.id])
      const stats = await q.stats(T0)
      assert.deepEqual(stats, [
        { topic: 't', function_path: 'a', pending: 0, in_flight: 0, delayed: 0, dead: 0 },
        { topic: 't', function_path: 'b', pending: 1, in_flight: 0, delayed: 0, dead: 0 },
      ])
    })

    test('claim honours the limit and emit order', async (t) => {
      const { q } = open(t)
      await q.subscribe(A, policy(), T0)
      await q.enqueue(
        Array.from({ length: 5 }, (_, i) => ({ topic: 't', data: String(i) })),
        T0,
        DAY,
      )
      const first = await claim1(q, A, 3, T0, T0 + 100)
      assert.deepEqual(
        first.map((d) => d.data),
        ['0', '1', '2'],
      )
      const rest = await claim1(q, A, 3, T0, T0 + 100)
      assert.deepEqual(
        rest.map((d) => d.data),
        ['3', '4'],
      )
    })

    test('one claim serves several subscriptions and says when the next delivery is due', async (t) => {
      const { q } = open(t)
      await q.subscribe(A, policy(), T0)
      await q.subscribe(B, policy(), T0)
      await q.enqueue(
        [
          { topic: 't', data: '1' },
          { topic: 't', data: '2', delay_ms: 300 },
        ],
        T0,
        DAY,
      )
      const [a, b, none] = await q.claim(
        [
          { key: A, limit: 5, leaseUntil: T0 + 100 },
          { key: B, limit: 1, leaseUntil: T0 + 100 },
          { key: { topic: 't', function_path: 'unknown' }, limit: 5, leaseUntil: T0 + 100 },
        ],
        T0,
      )
      assert.deepEqual(
        a.deliveries.map((d) => d.data),
        ['1'],
      )
      assert.equal(a.next_due, T0 + 300, 'fewer than the limit: when the next one is due')
      assert.equal(b.deliveries.length, 1)
      assert.equal(b.next_due, null, 'the limit was reached')
      assert.deepEqual(none, { deliveries: [], next_due: null })
    })

    test('an idempotency key dedups within its TTL, per topic, also inside one batch', async (t) => {
      const { q } = open(t)
      await q.subscribe(A, policy(), T0)
      const [a, b] = await q.enqueue(
        [
          { topic: 't', data: '1', idempotency_key: 'k' },
          { topic: 't', data: '2', idempotency_key: 'k' },
        ],
        T0,
        1000,
      )
      assert.equal(a.duplicate, false)
      assert.deepEqual(b, { event_id: a.event_id, duplicate: true, deliveries: 0 })
      const [other] = await q.enqueue([{ topic: 'u', data: '3', idempotency_key: 'k' }], T0, 1000)
      assert.equal(other.duplicate, false)
      const [later] = await q.enqueue([{ topic: 't', data: '4', idempotency_key: 'k' }], T0 + 999, 1000)
      assert.equal(later.duplicate, true)
      await q.sweep(T0 + 1000, sweepOpts)
      const [expired] = await q.enqueue([{ topic: 't', data: '5', idempotency_key: 'k' }], T0 + 1000, 1000)
      assert.equal(expired.duplicate, false)
      assert.notEqual(expired.event_id, a.event_id)
      const claimed = await claim1(q, A, 10, T0 + 1000, T0 + 2000)
      assert.deepEqual(
        claimed.map((d) => d.data),
        ['1', '5'],
      )
    })

    test('a delayed delivery is due later; nextDue says when', async (t) => {
      const { q } = open(t)
      await q.subscribe(A, policy(), T0)
      await q.enqueue([{ topic: 't', data: '1', delay_ms: 500 }], T0, DAY)
      assert.deepEqual(await claim1(q, A, 10, T0 + 499, T0 + 1000), [])
      assert.equal(await q.nextDue(A, T0), T0 + 500)
      assert.equal((await q.stats(T0))[0].delayed, 1)
      assert.equal((await claim1(q, A, 10, T0 + 500, T0 + 1000)).length, 1)
      assert.equal(await q.nextDue(A, T0 + 500), null)
    })

    test('retry counts the attempt or not; a stale lease changes nothing', async (t) => {
      const { q } = open(t)
      await q.subscribe(A, policy(), T0)
      await q.enqueue([{ topic: 't', data: '1' }], T0, DAY)
      const [d1] = await claim1(q, A, 1, T0, T0 + 100)
      await q.retry({ id: d1.id, attempt: 1 }, T0 + 50, err, true)
      assert.deepEqual(await claim1(q, A, 1, T0 + 49, T0 + 100), [])
      const [d2] = await claim1(q, A, 1, T0 + 50, T0 + 150)
      assert.equal(d2.attempt, 2)
      assert.equal(d2.first_attempt_ms, T0, 'the first attempt time is kept')
      await q.retry({ id: d2.id, attempt: 1 }, T0, err, true) // stale: attempt 1 is over
      assert.equal((await q.stats(T0 + 60))[0].in_flight, 1)
      await q.retry({ id: d2.id, attempt: 2 }, T0 + 60, null, false)
      const [d3] = await claim1(q, A, 1, T0 + 60, T0 + 200)
      assert.equal(d3.attempt, 2, 'an uncounted claim is given back')
    })

    test('dead letters keep data, error and attempts; list pages; redrive and discard select', async (t) => {
      const { q } = open(t)
      await q.subscribe(A, policy(), T0)
      await q.subscribe({ topic: 'u', function_path: 'a' }, policy(), T0)
      await q.enqueue(
        [
          { topic: 't', data: '"one"', traceparent: 'tp1' },
          { topic: 't', data: '"two"' },
          { topic: 'u', data: '"three"' },
        ],
        T0,
        DAY,
      )
      for (const key of [A, { topic: 'u', function_path: 'a' }]) {
        for (const d of await claim1(q, key, 10, T0, T0 + 100)) {
          await q.deadLetter({ id: d.id, attempt: 1 }, err, T0 + 10)
        }
      }
      const page1 = await q.listDeadLetters({}, 2)
      assert.equal(page1.items.length, 2)
      assert.ok(page1.next_cursor)
      const page2 = await q.listDeadLetters({}, 2, page1.next_cursor)
      assert.equal(page2.items.length, 1)
      assert.equal(page2.next_cursor, undefined)
      const [first] = page1.items
      assert.equal(first.data, '"one"')
      assert.deepEqual(first.error, err)
      assert.equal(first.attempts, 1)
      assert.equal(first.first_attempt_ms, T0)
      assert.equal(first.failed_at_ms, T0 + 10)
      assert.equal(first.traceparent, 'tp1')
      assert.equal(first.topic, 't')
      assert.equal(first.function_path, 'a')
      assert.equal((await q.listDeadLetters({ topic: 'u' }, 10)).items.length, 1)
      assert.equal(await q.redrive({ id: first.id }, T0 + 20), 1)
      assert.equal(await q.redrive({ id: first.id }, T0 + 20), 0, 'a redriven letter is no longer dead')
      const [again] = await claim1(q, A, 10, T0 + 20, T0 + 100)
      assert.equal(again.data, '"one"')
      assert.equal(again.attempt, 1, 'a redriven delivery starts a fresh attempt count')
      assert.equal(await q.discard({ topic: 'u' }), 1)
      assert.equal(await q.discard({ function_path: 'a' }), 1)
      assert.deepEqual((await q.listDeadLetters({}, 10)).items, [])
    })

    test('FIFO: one in flight per group, in order; a failing head holds only its group', async (t) => {
      const { q } = open(t)
      await q.subscribe(A, policy({ fifo: true }), T0)
      await q.enqueue(
        ['a1', 'b1', 'a2', 'b2', 'x'].map((v) => ({
          topic: 't',
          data: `"${v}"`,
          message_group_id: v === 'x' ? undefined : v[0],
        })),
        T0,
        DAY,
      )
      const heads = await claim1(q, A, 10, T0, T0 + 100)
      assert.deepEqual(
        heads.map((d) => d.data),
        ['"a1"', '"b1"', '"x"'],
      )
      assert.equal(heads[0].message_group_id, 'a')
      const [a1, b1] = heads
      await q.retry({ id: a1.id, attempt: 1 }, T0 + 1000, err, true)
      await q.ack([b1.id])
      const next = await claim1(q, A, 10, T0 + 10, T0 + 100)
      assert.deepEqual(
        next.map((d) => d.data),
        ['"b2"'],
        'a2 waits behind a1',
      )
      const [a1again] = await claim1(q, A, 10, T0 + 1000, T0 + 1100)
      assert.equal(a1again.data, '"a1"')
      await q.deadLetter({ id: a1again.id, attempt: 2 }, err, T0 + 1000)
      const [a2] = await claim1(q, A, 10, T0 + 1000, T0 + 1100)
      assert.equal(a2.data, '"a2"', 'a dead head releases its group')
    })

    test('a redriven FIFO letter goes behind the deliveries waiting in its group', async (t) => {
      const { q } = open(t)
      await q.subscribe(A, policy({ fifo: true }), T0)
      await q.enqueue([{ topic: 't', data: '1', message_group_id: 'g' }], T0, DAY)
      const [d1] = await claim1(q, A, 10, T0, T0 + 100)
      await q.deadLetter({ id: d1.id, attempt: 1 }, err, T0)
      await q.enqueue([{ topic: 't', data: '2', message_group_id: 'g' }], T0, DAY)
      await q.redrive({ topic: 't' }, T0)
      const order: string[] = []
      for (let i = 0; i < 2; i++) {
        const [d] = await claim1(q, A, 10, T0, T0 + 100)
        order.push(d.data)
        await q.ack([d.id])
      }
      assert.deepEqual(order, ['2', '1'])
    })

    test('sweep: lost leases come back, released subscriptions expire to dead letters, retention purges', async (t) => {
      const { q } = open(t)
      await q.subscribe(A, policy(), T0)
      await q.subscribe(B, policy(), T0)
      await q.enqueue([{ topic: 't', data: '1' }], T0, DAY)
      const [d] = await claim1(q, A, 1, T0, T0 + 100)
      assert.equal((await q.sweep(T0 + 99, sweepOpts)).unleased, 0)
      assert.equal((await q.sweep(T0 + 100, sweepOpts)).unleased, 1)
      const [again] = await claim1(q, A, 1, T0 + 100, T0 + 200)
      assert.equal(again.id, d.id)
      assert.equal(again.attempt, 2)

      await q.release(B, T0)
      assert.equal((await q.sweep(T0 + 999, sweepOpts)).expired, 0)
      assert.equal((await q.enqueue([{ topic: 't', data: '2' }], T0 + 999, DAY))[0].deliveries, 2)
      const swept = await q.sweep(T0 + 1000, sweepOpts)
      assert.equal(swept.expired, 2)
      const dead = (await q.listDeadLetters({ function_path: 'b' }, 10)).items
      assert.deepEqual(
        dead.map((x) => [x.data, x.error.code, x.attempts]),
        [
          ['1', 'function_not_found', 0],
          ['2', 'function_not_found', 0],
        ],
      )
      assert.equal((await q.enqueue([{ topic: 't', data: '3' }], T0 + 1000, DAY))[0].deliveries, 1)
      await q.subscribe(B, policy(), T0 + 1000)
      assert.equal((await q.enqueue([{ topic: 't', data: '4' }], T0 + 1000, DAY))[0].deliveries, 2)

      assert.equal((await q.sweep(T0 + 5999, sweepOpts)).purged, 0)
      assert.equal((await q.sweep(T0 + 6000, sweepOpts)).purged, 2)
      assert.equal((await q.stats(T0 + 6000)).find((s) => s.function_path === 'b')?.dead, 0)
    })

    test('a restart keeps everything; recover makes in-flight deliveries pending again', async (t) => {
      const { q, reopen } = open(t)
      await q.subscribe(A, policy({ fifo: true }), T0)
      await q.enqueue(
        [
          { topic: 't', data: '"inflight"', message_group_id: 'g' },
          { topic: 't', data: '"queued"', message_group_id: 'g' },
          { topic: 't', data: '"delayed"', delay_ms: 10_000 },
          { topic: 't', data: '"dead"' },
          { topic: 't', data: '"x"', idempotency_key: 'k' },
        ],
        T0,
        DAY,
      )
      const claimed = await claim1(q, A, 10, T0, T0 + 60_000)
      assert.deepEqual(
        claimed.map((d) => d.data),
        ['"inflight"', '"dead"', '"x"'],
      )
      await q.deadLetter({ id: claimed[1].id, attempt: 1 }, err, T0)
      await q.ack([claimed[2].id])
      await q.close()

      const r = reopen()
      await r.recover(T0 + 1)
      assert.deepEqual(await r.stats(T0 + 1), [
        { topic: 't', function_path: 'a', pending: 2, in_flight: 0, delayed: 1, dead: 1 },
      ])
      const [d] = await claim1(r, A, 10, T0 + 1, T0 + 100)
      assert.equal(d.data, '"inflight"')
      assert.equal(d.attempt, 2, 'the interrupted attempt stays counted')
      assert.equal((await r.enqueue([{ topic: 't', data: '0', idempotency_key: 'k' }], T0 + 1, DAY))[0].duplicate, true)
      // recover released the subscription: it expires unless subscribed again.
      assert.equal((await r.sweep(T0 + 1001, sweepOpts)).expired, 3)
    })
  })
}
