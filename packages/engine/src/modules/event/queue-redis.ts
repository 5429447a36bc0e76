/**
 * The shared {@link EventQueue}: durable events in Redis, so every engine of a cluster emits
 * into and delivers from one queue. Same model and semantics as the SQLite queue (see
 * `queue.ts`); each step that changes something is one Lua script (`queue-redis-lua.ts`),
 * atomic against every engine, and has been applied by Redis when its promise resolves (how
 * much survives a Redis crash is Redis's persistence setting: docs/events.md).
 *
 * Keys (`P` is the prefix, `iii:` by default; `B` = `P ev:{len(topic):topic}:` is the key base
 * of one topic, whose braces are the hash tag: every key of a topic is in one cluster slot and
 * a script only touches the keys of one topic; `F` is a function path):
 * - `P ev:topics`         set of topics that have subscriptions or idempotency keys
 * - `B subs`              hash F -> `{fifo, rel, exp}` (released at ms or -1, expired 0|1)
 * - `B pol`               hash F -> the subscription's retry policy (JSON)
 * - `B hold:F`            hash holder (engine id) -> lease deadline of that engine's hold
 * - `B seq`               counter: delivery numbers, in emit order (also redrive order)
 * - `B ev` / `B evn`      hash event id -> `{data, grp, tp, bg, at}` / deliveries left
 * - `B d`                 hash delivery number (16 digits) -> the delivery (see the Lua file)
 * - `B w:F` `B f:F` `B x:F`  sorted sets of F's waiting (score due), in-flight (score lease
 *                         deadline) and dead (score failed at) deliveries
 * - `B dead`              sorted set of the topic's dead letters by number (listing order)
 * - `B g:len(F):F:G`      sorted set of the FIFO group G's live deliveries by number; its
 *                         first member is the group's head, the only one claimable
 * - `B idem` / `B idemx`  hash idempotency key -> event id / sorted set key -> expiry
 *
 * A delivery's id is `<number>:<topic>`. Operations on several topics (a batch of emits,
 * claims for several subscriptions, sweep, stats, dead-letter listing) run one script per
 * topic, in one pipeline: each topic's part is atomic, the batch as a whole is not (an emit's
 * result is only given after its own part was applied).
 *
 * Subscriptions are held per engine: `subscribe` records this queue's `holder` with a lease
 * that `sweep` renews; a subscription is released when its last holder lets go or when the
 * lease of a killed engine's hold runs out, and expires `subscription_ttl_ms` later. An
 * in-flight delivery of a killed engine is claimable again once its lease ends (`sweep`).
 * `recover` does what the embedded queue does (every in-flight delivery back, every
 * subscription released) only with `exclusive: true`; the engine passes false, because other
 * engines still hold their deliveries and subscriptions.
 *
 * BullMQ is not used: its jobs belong to one queue with one retry count, while here one emit
 * fans out to several subscriptions, each with its own policy, dead letters, FIFO groups held
 * behind a failing head and idempotency per topic, which would need a BullMQ queue per
 * subscription plus the same bookkeeping beside it.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { ErrorCode, IIIError } from '../../errors.js'
import {
  COMMAND_TIMEOUT_MS,
  checkPrefix,
  closeClient,
  DEFAULT_PREFIX,
  openClient,
  storeError,
  whenReady,
} from '../../redis/client.js'
import { byCodePoint } from '../store/redis.js'
import type {
  ClaimRequest,
  ClaimResult,
  DeadLetter,
  DeadLetterPage,
  DeadLetterSelector,
  Delivery,
  DeliveryError,
  EnqueueRequest,
  EnqueueResult,
  EventQueue,
  LeaseRef,
  RetryPolicy,
  SubscriptionKey,
  SubscriptionStats,
  SweepOptions,
  SweepResult,
} from './queue.js'
import * as LUA from './queue-redis-lua.js'

/** Pub/sub between engines (the engine's `SharedRedis`): tells the others about new work. */
export interface WorkBus {
  publish(channel: string, body: string): void
  subscribe(channel: string, handler: (from: string, body: string) => void): void
}

export interface RedisEventQueueOptions {
  url: string
  /** Key prefix; `iii:` by default. */
  prefix?: string
  /** Use this connection instead of opening one (it is not closed by {@link close}). */
  client?: Redis
  /** Who holds the subscriptions this queue subscribes (the engine's id); random by default. */
  holder?: string
  /** How long a hold lasts without a sweep renewing it; 10 s by default. */
  holdMs?: number
  /** `recover` takes back every in-flight delivery and subscription (one engine only). */
  exclusive?: boolean
  /** Announces new work to the other engines; without it they find it at their next sweep. */
  bus?: WorkBus
}

type Reply = Array<string | number>
type Run = Redis & Record<string, (...args: unknown[]) => Promise<unknown>>

const CHANNEL = 'events:work'
const pad = (seq: string) => seq.padStart(16, '0')
const orNull = (s: unknown) => (s === '' || s === null || s === undefined ? null : String(s))

/** Splits a delivery id into its topic and padded number; null when it is not one of ours. */
function parseId(id: string): { topic: string; m: string } | null {
  const cut = id.indexOf(':')
  if (cut <= 0 || !/^[0-9]{1,16}$/.test(id.slice(0, cut))) return null
  return { topic: id.slice(cut + 1), m: pad(id.slice(0, cut)) }
}

const idOf = (m: string, topic: string) => `${Number(m)}:${topic}`

export class RedisEventQueue implements EventQueue {
  readonly name = 'redis'
  private client: Redis | null
  private readonly ownsClient: boolean
  private readonly prefix: string
  private readonly holder: string
  private readonly holdMs: number
  private readonly exclusive: boolean
  private readonly bus?: WorkBus
  /** Subscriptions this queue holds, by topic (renewed at each sweep). */
  private readonly held = new Map<string, Set<string>>()
  private readonly listeners: Array<(topic: string) => void> = []
  private firstConnect: Promise<boolean> | null

  constructor(options: RedisEventQueueOptions) {
    this.prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX)
    this.holder = options.holder ?? randomUUID()
    this.holdMs = options.holdMs ?? 10_000
    this.exclusive = options.exclusive ?? false
    this.bus = options.bus
    this.ownsClient = options.client === undefined
    this.client = options.client ?? openClient(options.url)
    for (const [name, lua] of Object.entries(LUA)) {
      this.client.defineCommand(`iii_ev_${name.toLowerCase()}`, { numberOfKeys: 1, lua })
    }
    this.firstConnect = whenReady(this.client, COMMAND_TIMEOUT_MS).finally(() => {
      this.firstConnect = null
    })
    this.bus?.subscribe(CHANNEL, (_from, topic) => this.notify(topic))
  }

  /**
   * Calls `listener` with a topic when deliveries of it may have become claimable elsewhere:
   * another engine emitted or redrove, or a sweep ran (a once-a-sweep safety net for a missed
   * message, which also covers retries and leases that ended on other engines).
   */
  onWork(listener: (topic: string) => void): void {
    this.listeners.push(listener)
  }

  private notify(topic: string): void {
    for (const l of this.listeners) l(topic)
  }

  private base(topic: string): string {
    return `${this.prefix}ev:{${topic.length}:${topic}}:`
  }

  private get topicsKey(): string {
    return `${this.prefix}ev:topics`
  }

  private async run<T>(what: string, fn: (r: Run) => Promise<T>): Promise<T> {
    if (this.firstConnect) await this.firstConnect
    if (!this.client) throw new IIIError(ErrorCode.Internal, 'the event store is closed')
    try {
      return await fn(this.client as Run)
    } catch (err) {
      throw storeError(err, `events ${what}`)
    }
  }

  /** Runs one script per topic in one pipeline; answers the replies in order. */
  private async perTopic<T>(
    what: string,
    calls: Array<[topic: string, script: string, args: unknown[]]>,
  ): Promise<T[]> {
    if (calls.length === 0) return []
    return this.run(what, async (r) => {
      const p = r.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown> & {
        exec(): Promise<Array<[Error | null, unknown]> | null>
      }
      for (const [topic, script, args] of calls) p[`iii_ev_${script}`](this.base(topic), ...args.map(String))
      const replies = (await p.exec()) ?? []
      return replies.map(([err, value]) => {
        if (err) throw err
        return value as T
      })
    })
  }

  private async topics(): Promise<string[]> {
    const all = await this.run('topics', (r) => r.smembers(this.topicsKey))
    return all.sort(byCodePoint)
  }

  async recover(now: number): Promise<void> {
    if (!this.exclusive) return
    const topics = await this.topics()
    await this.perTopic(
      'recover',
      topics.map((t) => [t, 'recover', [now]]),
    )
  }

  async subscribe(key: SubscriptionKey, policy: RetryPolicy, now: number): Promise<void> {
    await this.run('subscribe', (r) => r.sadd(this.topicsKey, key.topic))
    await this.perTopic('subscribe', [
      [
        key.topic,
        'subscribe',
        [key.function_path, this.holder, now + this.holdMs, JSON.stringify(policy), policy.fifo ? 1 : 0],
      ],
    ])
    let fns = this.held.get(key.topic)
    if (fns === undefined) this.held.set(key.topic, (fns = new Set()))
    fns.add(key.function_path)
  }

  async release(key: SubscriptionKey, now: number): Promise<void> {
    const fns = this.held.get(key.topic)
    fns?.delete(key.function_path)
    if (fns?.size === 0) this.held.delete(key.topic)
    await this.perTopic('release', [[key.topic, 'release', [key.function_path, this.holder, now]]])
  }

  async enqueue(batch: EnqueueRequest[], now: number, idempotencyTtlMs: number): Promise<EnqueueResult[]> {
    const byTopic = new Map<string, number[]>()
    batch.forEach((r, i) => {
      const list = byTopic.get(r.topic)
      if (list === undefined) byTopic.set(r.topic, [i])
      else list.push(i)
    })
    const keyed = [...byTopic.keys()].filter((t) => byTopic.get(t)?.some((i) => batch[i].idempotency_key !== undefined))
    if (keyed.length > 0) await this.run('emit', (r) => r.sadd(this.topicsKey, ...keyed))
    const calls: Array<[string, string, unknown[]]> = []
    for (const [topic, idx] of byTopic) {
      const args: unknown[] = [now, idempotencyTtlMs, idx.length]
      for (const i of idx) {
        const r = batch[i]
        args.push(
          randomUUID(),
          r.data,
          r.idempotency_key ?? '',
          r.message_group_id ?? '',
          r.delay_ms ?? 0,
          r.traceparent ?? '',
          r.baggage ?? '',
        )
      }
      calls.push([topic, 'enqueue', args])
    }
    const replies = await this.perTopic<Reply>('emit', calls)
    const out: EnqueueResult[] = new Array(batch.length)
    let c = 0
    for (const [topic, idx] of byTopic) {
      const reply = replies[c++]
      let delivered = 0
      idx.forEach((i, j) => {
        const deliveries = Number(reply[3 * j + 2])
        delivered += deliveries
        out[i] = { event_id: String(reply[3 * j]), duplicate: Number(reply[3 * j + 1]) === 1, deliveries }
      })
      if (delivered > 0) this.bus?.publish(CHANNEL, topic)
    }
    return out
  }

  async claim(requests: ClaimRequest[], now: number): Promise<ClaimResult[]> {
    const replies = await this.perTopic<Reply>(
      'claim',
      requests.map((r) => [r.key.topic, 'claim', [r.key.function_path, r.limit, r.leaseUntil, now]]),
    )
    return replies.map((reply, i) => {
      const key = requests[i].key
      const deliveries: Delivery[] = []
      for (let j = 1; j < reply.length; j += 9) {
        deliveries.push({
          id: idOf(String(reply[j]), key.topic),
          event_id: String(reply[j + 1]),
          topic: key.topic,
          function_path: key.function_path,
          data: String(reply[j + 4]),
          attempt: Number(reply[j + 2]),
          message_group_id: orNull(reply[j + 5]),
          traceparent: orNull(reply[j + 6]),
          baggage: orNull(reply[j + 7]),
          emitted_ms: Number(reply[j + 8]),
          first_attempt_ms: Number(reply[j + 3]),
        })
      }
      const due = Number(reply[0])
      return { deliveries, next_due: deliveries.length < requests[i].limit && due >= 0 ? due : null }
    })
  }

  /** Groups delivery ids by topic; ids that are not ours are left out (they name nothing). */
  private byTopic(ids: string[]): Map<string, string[]> {
    const out = new Map<string, string[]>()
    for (const id of ids) {
      const p = parseId(id)
      if (p === null) continue
      const list = out.get(p.topic)
      if (list === undefined) out.set(p.topic, [p.m])
      else list.push(p.m)
    }
    return out
  }

  async ack(ids: string[]): Promise<void> {
    await this.perTopic(
      'ack',
      [...this.byTopic(ids)].map(([topic, ms]) => [topic, 'ack', ms]),
    )
  }

  async retry(ref: LeaseRef, at: number, error: DeliveryError | null, countAttempt: boolean): Promise<void> {
    const p = parseId(ref.id)
    if (p === null) return
    const args = [p.m, ref.attempt, at, error === null ? '' : JSON.stringify(error), countAttempt ? 1 : 0]
    const [done] = await this.perTopic<number>('retry', [[p.topic, 'retry', args]])
    // An uncounted retry is due now: a worker on another engine may take it at once.
    if (done === 1 && !countAttempt) this.bus?.publish(CHANNEL, p.topic)
  }

  async deadLetter(ref: LeaseRef, error: DeliveryError, now: number): Promise<void> {
    const p = parseId(ref.id)
    if (p === null) return
    await this.perTopic('deadLetter', [[p.topic, 'dead', [p.m, ref.attempt, now, JSON.stringify(error)]]])
  }

  async nextDue(key: SubscriptionKey, now: number): Promise<number | null> {
    const next = await this.run('nextDue', (r) =>
      r.zrangebyscore(`${this.base(key.topic)}w:${key.function_path}`, `(${now}`, '+inf', 'WITHSCORES', 'LIMIT', 0, 1),
    )
    return next.length === 0 ? null : Number(next[1])
  }

  async listDeadLetters(
    filter: { topic?: string; function_path?: string },
    limit: number,
    cursor?: string,
  ): Promise<DeadLetterPage> {
    const from = cursor === undefined ? null : parseId(cursor)
    let topics = filter.topic !== undefined ? [filter.topic] : await this.topics()
    if (from !== null) topics = topics.filter((t) => byCodePoint(t, from.topic) >= 0)
    const items: DeadLetter[] = []
    for (const topic of topics) {
      if (items.length > limit) break
      const after = from !== null && topic === from.topic ? Number(from.m) : 0
      const want = limit + 1 - items.length
      const [reply] = await this.perTopic<Reply>('deadLetters.list', [
        [topic, 'dead_list', [after, filter.function_path ?? '', want]],
      ])
      for (let j = 0; j < reply.length; j += 10) {
        const first = Number(reply[j + 6])
        const error = orNull(reply[j + 4])
        items.push({
          id: idOf(String(reply[j]), topic),
          event_id: String(reply[j + 2]),
          topic,
          function_path: String(reply[j + 1]),
          data: String(reply[j + 3]),
          error: error ? JSON.parse(error) : { code: ErrorCode.Internal, message: 'no error recorded' },
          attempts: Number(reply[j + 5]),
          first_attempt_ms: first < 0 ? null : first,
          failed_at_ms: Number(reply[j + 7]),
          message_group_id: orNull(reply[j + 8]),
          traceparent: orNull(reply[j + 9]),
        })
      }
    }
    const page = items.slice(0, limit)
    return items.length > limit ? { items: page, next_cursor: page[page.length - 1].id } : { items: page }
  }

  /** One script call per topic the selector covers: [topic, kind, argument]. */
  private async select(selector: DeadLetterSelector): Promise<Array<[string, string, string]>> {
    if ('id' in selector) {
      const p = parseId(selector.id)
      return p === null ? [] : [[p.topic, 'one', p.m]]
    }
    const topics = selector.topic !== undefined ? [selector.topic] : await this.topics()
    return topics.map((t) =>
      selector.function_path === undefined ? [t, 'all', ''] : [t, 'fn', selector.function_path as string],
    )
  }

  async redrive(selector: DeadLetterSelector, now: number): Promise<number> {
    const sel = await this.select(selector)
    const counts = await this.perTopic<number>(
      'deadLetters.redrive',
      sel.map(([t, kind, arg]) => [t, 'redrive', [now, kind, arg]]),
    )
    sel.forEach(([t], i) => {
      if (counts[i] > 0) this.bus?.publish(CHANNEL, t)
    })
    return counts.reduce((a, b) => a + Number(b), 0)
  }

  async discard(selector: DeadLetterSelector): Promise<number> {
    const sel = await this.select(selector)
    const counts = await this.perTopic<number>(
      'deadLetters.discard',
      sel.map(([t, kind, arg]) => [t, 'discard', [0, kind, arg]]),
    )
    return counts.reduce((a, b) => a + Number(b), 0)
  }

  async stats(now: number): Promise<SubscriptionStats[]> {
    const topics = await this.topics()
    const replies = await this.perTopic<Reply>(
      'stats',
      topics.map((t) => [t, 'stats', [now]]),
    )
    const out: SubscriptionStats[] = []
    replies.forEach((reply, i) => {
      for (let j = 0; j < reply.length; j += 5) {
        out.push({
          topic: topics[i],
          function_path: String(reply[j]),
          pending: Number(reply[j + 1]),
          in_flight: Number(reply[j + 2]),
          delayed: Number(reply[j + 3]),
          dead: Number(reply[j + 4]),
        })
      }
    })
    return out.sort((a, b) => byCodePoint(a.topic, b.topic) || byCodePoint(a.function_path, b.function_path))
  }

  async sweep(now: number, options: SweepOptions): Promise<SweepResult> {
    const topics = await this.topics()
    const replies = await this.perTopic<Reply>(
      'sweep',
      topics.map((t) => [
        t,
        'sweep',
        [
          now,
          options.subscription_ttl_ms,
          options.dead_letter_retention_ms,
          this.holder,
          now + this.holdMs,
          ...(this.held.get(t) ?? []),
        ],
      ]),
    )
    const result = { expired: 0, purged: 0, unleased: 0 }
    for (const [expired, purged, unleased] of replies) {
      result.expired += Number(expired)
      result.purged += Number(purged)
      result.unleased += Number(unleased)
    }
    for (const t of this.held.keys()) this.notify(t)
    return result
  }

  async close(): Promise<void> {
    const client = this.client
    this.client = null
    this.listeners.length = 0
    if (client && this.ownsClient) await closeClient(client)
  }
}
