/**
 * The embedded {@link EventQueue}: one SQLite file (better-sqlite3, WAL journal) in the
 * engine's data directory, `events.db`. Every method runs as one transaction that has committed
 * to the WAL before it returns, so what it acknowledged survives `kill -9` of the engine (and,
 * with `synchronous: 'full'`, power loss). better-sqlite3 is synchronous: the promises resolve
 * at once and a batch is one short write.
 *
 * Tables: `subscriptions` (one row per topic + function, never deleted: tiny, and it keeps the
 * dead letters' names), `events` (data and trace headers, with a count of the deliveries still
 * referring to it, deleted at zero), `deliveries` (state 0 waiting, 1 in flight, 2 dead; `due`
 * is when it is due, its lease deadline, or when it failed), `idempotency` (keys until expiry).
 */
import { randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'
import { IIIError } from '../../errors.js'
import { closeSqliteFile, openSqliteFile } from '../store/sqlite-file.js'
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
import { type EventRow, prepare, SCHEMA, type SubRow } from './queue-sqlite-sql.js'

export interface SqliteEventQueueOptions {
  /** The database file; created with its directory when missing. */
  file: string
  /** `normal` (default) survives a killed process; `full` also survives power loss. */
  synchronous?: 'normal' | 'full'
}

export class SqliteEventQueue implements EventQueue {
  readonly name = 'sqlite'
  private db: Database.Database | null
  private readonly q: ReturnType<typeof prepare>
  private readonly tx: {
    enqueue: (batch: EnqueueRequest[], now: number, ttl: number) => EnqueueResult[]
    claim: (requests: ClaimRequest[], now: number) => ClaimResult[]
    ack: (ids: string[]) => void
    redrive: (ids: number[], now: number) => void
    discard: (ids: number[]) => void
    sweep: (now: number, o: SweepOptions) => SweepResult
  }

  constructor(options: SqliteEventQueueOptions) {
    const db = openSqliteFile(options.file, options.synchronous, SCHEMA)
    this.db = db
    const q = prepare(db)
    this.q = q
    this.tx = {
      enqueue: db.transaction((batch: EnqueueRequest[], now: number, ttl: number) => this.enqueueRows(batch, now, ttl))
        .immediate,
      claim: db.transaction((requests: ClaimRequest[], now: number) => {
        // Events shared by several subscriptions (fan-out) are read once per batch.
        const events = new Map<string, EventRow>()
        return requests.map((r) => {
          const sub = this.sub(r.key)
          if (sub === undefined || r.limit <= 0) return { deliveries: [], next_due: null }
          return this.claimRows(sub, r, now, events)
        })
      }).immediate,
      ack: db.transaction((ids: string[]) => {
        const rows = q.removeMany.all(JSON.stringify(ids.map(Number))) as Array<{ event_id: string }>
        // A fan-out's deliveries are often acknowledged together: one update per event.
        const byEvent = new Map<string, number>()
        for (const r of rows) byEvent.set(r.event_id, (byEvent.get(r.event_id) ?? 0) + 1)
        for (const [event, n] of byEvent) {
          const left = q.eventReleaseBy.get(n, event) as { remaining: number } | undefined
          if (left !== undefined && left.remaining <= 0) q.eventDelete.run(event)
        }
      }).immediate,
      redrive: db.transaction((ids: number[], now: number) => {
        for (const id of ids) {
          q.redrive.run(now, id)
          q.remove.run(id)
        }
      }).immediate,
      discard: db.transaction((ids: number[]) => {
        for (const id of ids) this.removeDelivery(id)
      }).immediate,
      sweep: db.transaction((now: number, o: SweepOptions) => this.sweepRows(now, o)).immediate,
    }
  }

  private open(): Database.Database {
    if (!this.db) throw new IIIError('internal_error', 'the event store is closed')
    return this.db
  }

  private enqueueRows(batch: EnqueueRequest[], now: number, ttl: number): EnqueueResult[] {
    const q = this.q
    const subsByTopic = new Map<string, SubRow[]>()
    return batch.map((r) => {
      if (r.idempotency_key !== undefined) {
        const seen = q.idemGet.get(r.topic, r.idempotency_key, now) as { event_id: string } | undefined
        if (seen !== undefined) return { event_id: seen.event_id, duplicate: true, deliveries: 0 }
      }
      const event_id = randomUUID()
      if (r.idempotency_key !== undefined) q.idemPut.run(r.topic, r.idempotency_key, event_id, now + ttl)
      let subs = subsByTopic.get(r.topic)
      if (subs === undefined) subsByTopic.set(r.topic, (subs = q.subsOfTopic.all(r.topic) as SubRow[]))
      if (subs.length === 0) return { event_id, duplicate: false, deliveries: 0 }
      const grp = r.message_group_id ?? null
      q.eventPut.run(event_id, r.topic, r.data, grp, r.traceparent ?? null, r.baggage ?? null, now, subs.length)
      const due = now + (r.delay_ms ?? 0)
      for (const s of subs) q.deliveryPut.run(s.id, event_id, due, s.fifo ? grp : null)
      return { event_id, duplicate: false, deliveries: subs.length }
    })
  }

  /**
   * Leases up to `r.limit` due deliveries of one subscription, oldest first. `next_due` is when
   * the next waiting one is due if fewer than the limit were due (else null: claim again).
   */
  private claimRows(sub: SubRow, r: ClaimRequest, now: number, events: Map<string, EventRow>): ClaimResult {
    const q = this.q
    let next_due: number | null = null
    let rows: Array<{ id: number; due: number; event_id: string; attempts: number; first_ms: number | null }>
    if (sub.fifo) {
      rows = q.claimableFifo.all(sub.id, now, r.limit) as typeof rows
      if (rows.length < r.limit) next_due = (q.nextDue.get(sub.id, now) as { due: number | null }).due
    } else {
      // One row past the limit: the first one not yet due, if any, is the next due time.
      rows = q.claimable.all(sub.id, r.limit + 1) as typeof rows
      const notDue = rows.findIndex((d) => d.due > now)
      if (notDue >= 0 && notDue < r.limit) next_due = rows[notDue].due
      rows.length = Math.min(notDue >= 0 ? notDue : rows.length, r.limit)
    }
    const deliveries: Delivery[] = []
    for (const d of rows) {
      q.claimOne.run(r.leaseUntil, now, d.id)
      let e = events.get(d.event_id)
      if (e === undefined) events.set(d.event_id, (e = q.eventGet.get(d.event_id) as EventRow))
      deliveries.push({
        id: String(d.id),
        event_id: d.event_id,
        topic: e.topic,
        function_path: r.key.function_path,
        data: e.data,
        attempt: d.attempts + 1,
        message_group_id: e.grp,
        traceparent: e.traceparent,
        baggage: e.baggage,
        emitted_ms: e.created_ms,
        first_attempt_ms: d.first_ms ?? now,
      })
    }
    return { deliveries, next_due }
  }

  /** Deletes a delivery and, with its last delivery, its event. */
  private removeDelivery(id: number): boolean {
    const row = this.q.remove.get(id) as { event_id: string } | undefined
    if (row === undefined) return false
    const left = this.q.eventRelease.get(row.event_id) as { remaining: number } | undefined
    if (left !== undefined && left.remaining <= 0) this.q.eventDelete.run(row.event_id)
    return true
  }

  private sweepRows(now: number, o: SweepOptions): SweepResult {
    const q = this.q
    let expired = 0
    for (const { id } of q.subsToExpire.all(now - o.subscription_ttl_ms) as Array<{ id: number }>) {
      q.subExpire.run(id)
      const error: DeliveryError = {
        code: 'function_not_found',
        message: `no worker subscribed the function again within subscription_ttl_ms (${o.subscription_ttl_ms} ms)`,
      }
      expired += q.killSub.run(now, JSON.stringify(error), id).changes
    }
    let purged = 0
    for (const { id } of q.purgeable.all(now - o.dead_letter_retention_ms) as Array<{ id: number }>) {
      if (this.removeDelivery(id)) purged++
    }
    q.idemPurge.run(now)
    const unleased = q.unlease.run(now, now).changes
    return { expired, purged, unleased }
  }

  /** Subscription rows by key; rows are never deleted and `subscribe` refreshes its entry. */
  private readonly subs = new Map<string, SubRow>()

  private sub(key: SubscriptionKey): SubRow | undefined {
    const k = `${key.topic}\u0000${key.function_path}`
    let row = this.subs.get(k)
    if (row === undefined) {
      row = this.q.subGet.get(key.topic, key.function_path) as SubRow | undefined
      if (row !== undefined) this.subs.set(k, row)
    }
    return row
  }

  async recover(now: number): Promise<void> {
    this.open().transaction(() => {
      this.q.recover.run(now)
      this.q.subReleaseAll.run(now)
    })()
  }

  async subscribe(key: SubscriptionKey, policy: RetryPolicy, now: number): Promise<void> {
    void now
    this.open()
    this.q.subUpsert.run(key.topic, key.function_path, JSON.stringify(policy), policy.fifo ? 1 : 0)
    this.subs.delete(`${key.topic}\u0000${key.function_path}`)
  }

  async release(key: SubscriptionKey, now: number): Promise<void> {
    this.open()
    this.q.subRelease.run(now, key.topic, key.function_path)
  }

  async enqueue(batch: EnqueueRequest[], now: number, idempotencyTtlMs: number): Promise<EnqueueResult[]> {
    this.open()
    return this.tx.enqueue(batch, now, idempotencyTtlMs)
  }

  async claim(requests: ClaimRequest[], now: number): Promise<ClaimResult[]> {
    this.open()
    return requests.length === 0 ? [] : this.tx.claim(requests, now)
  }

  async ack(ids: string[]): Promise<void> {
    this.open()
    if (ids.length > 0) this.tx.ack(ids)
  }

  async retry(ref: LeaseRef, at: number, error: DeliveryError | null, countAttempt: boolean): Promise<void> {
    this.open()
    const text = error === null ? null : JSON.stringify(error)
    this.q.retry.run(at, countAttempt ? 0 : 1, text, Number(ref.id), ref.attempt)
  }

  async deadLetter(ref: LeaseRef, error: DeliveryError, now: number): Promise<void> {
    this.open()
    this.q.kill.run(now, JSON.stringify(error), Number(ref.id), ref.attempt)
  }

  async nextDue(key: SubscriptionKey, now: number): Promise<number | null> {
    this.open()
    const sub = this.sub(key)
    if (sub === undefined) return null
    return (this.q.nextDue.get(sub.id, now) as { due: number | null }).due
  }

  async listDeadLetters(
    filter: { topic?: string; function_path?: string },
    limit: number,
    cursor?: string,
  ): Promise<DeadLetterPage> {
    this.open()
    const rows = this.q.dead.all({
      after: cursor === undefined ? 0 : Number(cursor) || 0,
      topic: filter.topic ?? null,
      fn: filter.function_path ?? null,
      limit: limit + 1,
    }) as Array<Record<string, any>>
    const items: DeadLetter[] = rows.slice(0, limit).map((r) => ({
      id: String(r.id),
      event_id: r.event_id,
      topic: r.topic,
      function_path: r.function_path,
      data: r.data,
      error: r.error ? JSON.parse(r.error) : { code: 'internal_error', message: 'no error recorded' },
      attempts: r.attempts,
      first_attempt_ms: r.first_ms,
      failed_at_ms: r.due,
      message_group_id: r.grp,
      traceparent: r.traceparent,
    }))
    return rows.length > limit ? { items, next_cursor: items[items.length - 1].id } : { items }
  }

  private selectDead(selector: DeadLetterSelector): number[] {
    if ('id' in selector) {
      const row = this.q.deadById.get(Number(selector.id)) as { id: number } | undefined
      return row === undefined ? [] : [row.id]
    }
    const rows = this.q.deadIds.all({ topic: selector.topic ?? null, fn: selector.function_path ?? null })
    return (rows as Array<{ id: number }>).map((r) => r.id)
  }

  async redrive(selector: DeadLetterSelector, now: number): Promise<number> {
    this.open()
    const ids = this.selectDead(selector)
    if (ids.length > 0) this.tx.redrive(ids, now)
    return ids.length
  }

  async discard(selector: DeadLetterSelector): Promise<number> {
    this.open()
    const ids = this.selectDead(selector)
    if (ids.length > 0) this.tx.discard(ids)
    return ids.length
  }

  async stats(now: number): Promise<SubscriptionStats[]> {
    this.open()
    return this.q.stats.all({ now }) as SubscriptionStats[]
  }

  async sweep(now: number, options: SweepOptions): Promise<SweepResult> {
    this.open()
    return this.tx.sweep(now, options)
  }

  async close(): Promise<void> {
    const db = this.db
    this.db = null
    closeSqliteFile(db)
  }
}
