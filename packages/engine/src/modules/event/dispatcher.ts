/**
 * The delivery loop of durable events. It keeps the live subscriptions (the `event` triggers
 * the engine holds, grouped by topic + function), claims due deliveries from the
 * {@link EventQueue} up to each subscription's `concurrency`, invokes the function through the
 * engine (so any worker serving it may run it: replicas share one subscription), and settles
 * each attempt: acknowledged when the handler returns, retried with backoff when it fails,
 * dead-lettered when it is out of attempts or answered `non_retryable`.
 *
 * Choices where the issue is silent:
 * - A worker that disconnects or is killed mid-attempt fails the call with
 *   `invocation_stopped`: the attempt counts (a message that kills its worker ends in the dead
 *   letters instead of looping), but the retry is due at once, without backoff.
 * - `function_not_found` (no worker serves the function right now) does not count: the
 *   delivery waits until the set of functions changes.
 * - `condition_failed` means the trigger's conditions declined the event: it is done.
 * - `retry_after_ms` in the error's `details` replaces the backoff; it grants no extra attempt.
 *
 * Nothing here runs for calls other than events: the loop is driven by emits, settlements,
 * timers for due deliveries and a once-a-second sweep.
 */
import { ErrorCode } from '../../errors.js'
import { RawJson } from '../../protocol.js'
import type { EngineApi, TriggerRecord } from '../module.js'
import { GroupCommit } from './group-commit.js'
import { backoffDelay, retryAfter } from './policy.js'
import type { Delivery, DeliveryError, EnqueueRequest, EnqueueResult, EventQueue, RetryPolicy } from './queue.js'

/** Options of the event module that the loop needs (config `modules.event`). */
export interface DispatcherOptions {
  idempotency_ttl_ms: number
  subscription_ttl_ms: number
  dead_letter_retention_ms: number
  /** How often the sweep runs (TTL expiry, retention, lost leases). */
  sweep_interval_ms: number
}

/** A lease outlives the attempt's own timeout by this much, so the engine's timeout fires first. */
const LEASE_SLACK_MS = 5000
const MAX_TIMER_MS = 2 ** 31 - 1

interface Sub {
  key: { topic: string; function_path: string }
  triggers: TriggerRecord[]
  policy: RetryPolicy
  inFlight: number
  /** Counts signals of possible work; a claim that saw no new signal may mark the sub idle. */
  work: number
  /** The last claim took everything due: nothing to claim until a signal. */
  idle: boolean
  /** No worker serves the function: wait for the function list to change. */
  waiting: boolean
  timer?: NodeJS.Timeout
  timerAt: number
}

const keyOf = (topic: string, fn: string) => `${topic}\u0000${fn}`

export class Dispatcher {
  private readonly subs = new Map<string, Sub>()
  private readonly live = new Map<string, Sub[]>()
  private readonly emits: GroupCommit<EnqueueRequest, EnqueueResult>
  private readonly acks: GroupCommit<string, void>
  private sweeper?: NodeJS.Timeout
  private stopped = false
  /** Set by drain(): nothing new is claimed; deliveries in flight settle as usual. */
  private draining = false
  /** Subscriptions that may have due work, claimed together on the next turn. */
  private readonly dirty = new Set<Sub>()
  private flushScheduled = false
  private claiming = false

  constructor(
    private readonly engine: EngineApi,
    private readonly queue: EventQueue,
    private readonly options: DispatcherOptions,
  ) {
    this.emits = new GroupCommit((batch) => queue.enqueue(batch, Date.now(), options.idempotency_ttl_ms))
    this.acks = new GroupCommit(async (ids) => {
      await queue.ack(ids)
      return undefined
    })
  }

  async start(): Promise<void> {
    await this.queue.recover(Date.now())
    this.queue.onWork?.((topic) => {
      for (const sub of this.live.get(topic) ?? []) this.signal(sub)
    })
    this.engine.onFunctionsChanged(() => {
      for (const sub of this.subs.values()) {
        if (!sub.waiting) continue
        sub.waiting = false
        this.signal(sub)
      }
    })
    this.sweeper = setInterval(() => void this.sweep(), this.options.sweep_interval_ms)
    this.sweeper.unref()
  }

  /** Stores one emit (group-committed with the others of this turn) and starts its deliveries. */
  async emit(req: EnqueueRequest): Promise<{ event_id: string; duplicate: boolean }> {
    const result = await this.emits.add(req)
    if (result.deliveries > 0) for (const sub of this.live.get(req.topic) ?? []) this.signal(sub)
    return { event_id: result.event_id, duplicate: result.duplicate }
  }

  /** An `event` trigger became active: its subscription is live (shared with replicas). */
  async addTrigger(t: TriggerRecord, topic: string, policy: RetryPolicy): Promise<void> {
    if (this.stopped) return
    const k = keyOf(topic, t.function_path)
    let sub = this.subs.get(k)
    if (sub === undefined) {
      sub = {
        key: { topic, function_path: t.function_path },
        triggers: [],
        policy,
        inFlight: 0,
        work: 0,
        idle: false,
        waiting: false,
        timerAt: Number.POSITIVE_INFINITY,
      }
      this.subs.set(k, sub)
    }
    await this.queue.subscribe(sub.key, policy, Date.now())
    // The latest registration's policy wins for the whole subscription.
    sub.policy = policy
    sub.waiting = false
    if (sub.triggers.length === 0) {
      const list = this.live.get(topic)
      if (list === undefined) this.live.set(topic, [sub])
      else list.push(sub)
    }
    sub.triggers = [...sub.triggers.filter((x) => x.id !== t.id), t]
    this.signal(sub)
  }

  /** An `event` trigger went away; with its last trigger the subscription is released (TTL). */
  async removeTrigger(t: TriggerRecord, topic: string): Promise<void> {
    const sub = this.subs.get(keyOf(topic, t.function_path))
    if (sub === undefined || this.stopped) return
    sub.triggers = sub.triggers.filter((x) => x.id !== t.id)
    if (sub.triggers.length > 0) return
    const list = this.live.get(topic)?.filter((s) => s !== sub) ?? []
    if (list.length === 0) this.live.delete(topic)
    else this.live.set(topic, list)
    clearTimeout(sub.timer)
    sub.timerAt = Number.POSITIVE_INFINITY
    await this.queue.release(sub.key, Date.now())
  }

  /** Looks for due work on every live subscription (after a redrive or a sweep). */
  pumpAll(): void {
    for (const list of this.live.values()) for (const sub of list) this.signal(sub)
  }

  /**
   * Claims nothing more and resolves when every delivery in flight is settled (its ack
   * committed). A delivery whose call the shutdown then cuts short stays leased in the queue
   * and runs again after the restart.
   */
  async drain(): Promise<void> {
    this.draining = true
    clearInterval(this.sweeper)
    for (const sub of this.subs.values()) clearTimeout(sub.timer)
    while (this.busy() && !this.stopped) await new Promise((resolve) => setTimeout(resolve, 20))
  }

  private busy(): boolean {
    return this.claiming || [...this.subs.values()].some((s) => s.inFlight > 0)
  }

  async stop(): Promise<void> {
    // After a drain the calls still running were just failed: let them settle (release their
    // leases) before the queue closes.
    const until = Date.now() + 1000
    while (this.draining && this.busy() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10))
    this.stopped = true
    clearInterval(this.sweeper)
    for (const sub of this.subs.values()) clearTimeout(sub.timer)
  }

  /** Work may have appeared for a subscription (an emit, a retry, a timer, a new worker). */
  private signal(sub: Sub): void {
    sub.work++
    sub.idle = false
    this.pump(sub)
  }

  /**
   * Marks a subscription for the next claim; one claim per event-loop turn serves them all.
   * A subscription whose last claim found less than it could take and that was not signalled
   * since is skipped (unless FIFO, where a finished delivery may free its group's next one).
   */
  private pump(sub: Sub): void {
    if (this.stopped || this.draining || (sub.idle && !sub.policy.fifo)) return
    this.dirty.add(sub)
    if (this.flushScheduled || this.claiming) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      void this.claimDue()
    })
  }

  private async claimDue(): Promise<void> {
    const subs = [...this.dirty].filter((s) => s.triggers.length > 0 && !s.waiting && s.inFlight < s.policy.concurrency)
    this.dirty.clear()
    if (this.stopped || subs.length === 0) return
    this.claiming = true
    const work = subs.map((sub) => sub.work)
    const limits = subs.map((sub) => sub.policy.concurrency - sub.inFlight)
    try {
      const now = Date.now()
      const results = await this.queue.claim(
        subs.map((sub, i) => ({
          key: sub.key,
          limit: limits[i],
          leaseUntil: now + sub.policy.timeout_ms + LEASE_SLACK_MS,
        })),
        now,
      )
      results.forEach((r, i) => {
        const sub = subs[i]
        for (const d of r.deliveries) this.run(sub, d)
        if (r.next_due !== null) this.arm(sub, r.next_due, now)
        if (r.deliveries.length < limits[i] && sub.work === work[i]) sub.idle = true
      })
    } catch (err) {
      if (!this.stopped) this.engine.log.error(`event delivery failed: ${err}`)
    } finally {
      this.claiming = false
      const again = [...this.dirty]
      this.dirty.clear()
      for (const sub of again) this.pump(sub)
    }
  }

  /** Sets the subscription's timer for its next delivery that is not due yet. */
  private arm(sub: Sub, due: number, now: number): void {
    if (due >= sub.timerAt) return
    clearTimeout(sub.timer)
    sub.timerAt = due
    sub.timer = setTimeout(
      () => {
        sub.timer = undefined
        sub.timerAt = Number.POSITIVE_INFINITY
        this.signal(sub)
      },
      Math.min(Math.max(0, due - now), MAX_TIMER_MS),
    )
    sub.timer.unref()
  }

  private run(sub: Sub, d: Delivery): void {
    sub.inFlight++
    const trigger = sub.triggers[0]
    const call = this.engine.invoke(sub.key.function_path, new RawJson(d.data), {
      trigger: { type: 'event', id: trigger.id, topic: d.topic, event_id: d.event_id, attempt: d.attempt },
      traceparent: d.traceparent ?? undefined,
      baggage: d.baggage ?? undefined,
      timeoutMs: sub.policy.timeout_ms,
    })
    call
      .then(
        () => this.acks.add(d.id),
        (err) => this.failed(sub, d, err),
      )
      .catch((err) => {
        if (!this.stopped) this.engine.log.error(`event ${d.event_id} -> ${d.function_path}: ${err}`)
      })
      .finally(() => {
        sub.inFlight--
        this.pump(sub)
      })
  }

  private async failed(sub: Sub, d: Delivery, err: unknown): Promise<void> {
    // An engine that is stopping fails its calls; those deliveries run again after a restart.
    if (this.stopped) return
    const e = err as { code?: unknown; message?: unknown; details?: unknown }
    if (this.draining && e?.code === ErrorCode.InvocationStopped) {
      // Cut short by a graceful shutdown: released, the attempt not counted.
      return this.queue.retry({ id: d.id, attempt: d.attempt }, Date.now(), null, false)
    }
    const error: DeliveryError = {
      code: typeof e?.code === 'string' ? e.code : ErrorCode.Internal,
      message: typeof e?.message === 'string' ? e.message : String(err),
    }
    const ref = { id: d.id, attempt: d.attempt }
    const now = Date.now()
    const where = `event ${d.topic} -> ${d.function_path} (attempt ${d.attempt}/${sub.policy.max_attempts})`
    switch (error.code) {
      case ErrorCode.ConditionFailed:
        this.engine.log.debug(`${where}: ${error.message}`)
        return this.acks.add(d.id)
      case ErrorCode.FunctionNotFound:
        sub.waiting = true
        return this.queue.retry(ref, now, null, false)
      case ErrorCode.NonRetryable:
        this.engine.log.warn(`${where} is dead-lettered: ${error.code}: ${error.message}`)
        return this.queue.deadLetter(ref, error, now)
    }
    if (d.attempt >= sub.policy.max_attempts) {
      this.engine.log.warn(`${where} is dead-lettered: ${error.code}: ${error.message}`)
      return this.queue.deadLetter(ref, error, now)
    }
    const wait =
      error.code === ErrorCode.InvocationStopped
        ? 0
        : (retryAfter(e?.details) ?? backoffDelay(sub.policy.backoff, d.attempt))
    this.engine.log.debug(`${where} failed, retry in ${wait} ms: ${error.code}: ${error.message}`)
    await this.queue.retry(ref, now + wait, error, true)
    this.signal(sub)
  }

  private async sweep(): Promise<void> {
    if (this.stopped) return
    try {
      const r = await this.queue.sweep(Date.now(), {
        subscription_ttl_ms: this.options.subscription_ttl_ms,
        dead_letter_retention_ms: this.options.dead_letter_retention_ms,
      })
      if (r.expired > 0) this.engine.log.warn(`${r.expired} event deliveries expired with their subscription`)
      if (r.unleased > 0) this.pumpAll()
    } catch (err) {
      if (!this.stopped) this.engine.log.error(`event sweep failed: ${err}`)
    }
  }
}
