/**
 * The durable-event seam: the {@link EventQueue} adapter interface. The embedded SQLite queue
 * (`queue-sqlite.ts`) and the shared Redis queue (`queue-redis.ts`) implement the same
 * semantics, so the event module, its dispatcher and the contract suite
 * (`test/event-queue.contract.test.ts`) do not change when the adapter does.
 *
 * The model:
 * - A **subscription** is the pair (topic, function_path). Every `event` trigger on the same
 *   topic for the same function (replicas of one worker) shares it.
 * - An **event** is what one `emit` stored: topic, data (JSON text), optional idempotency key,
 *   optional message group, trace headers.
 * - A **delivery** is one event for one subscription. It is *waiting* (due at `due_ms`; pending
 *   once due, delayed before), *in flight* (claimed under a lease until a deadline) or *dead*
 *   (in the dead letters). A delivery is removed when it is acknowledged or discarded.
 *
 * Every method that changes something has committed the change when its promise resolves.
 * Times are passed in (`now`, milliseconds since the epoch), never read inside, so tests and
 * engines sharing one store agree on them.
 */

/** How a subscription retries; see `policy.ts` for defaults and limits. */
export interface RetryPolicy {
  /** Attempts in all, counting the first; 1 means no retry. */
  max_attempts: number
  backoff: BackoffPolicy
  /** How long one attempt may run before it counts as failed (`invocation_timeout`). */
  timeout_ms: number
  /** Deliveries of this subscription in flight at once. */
  concurrency: number
  /** Events of one `message_group_id` are delivered one at a time, in emit order. */
  fifo: boolean
}

export interface BackoffPolicy {
  type: 'exponential' | 'fixed'
  /** The delay after the first failed attempt. */
  initial_ms: number
  /** The longest delay between two attempts. */
  max_ms: number
  /** Spread each delay uniformly over [delay/2, delay]. */
  jitter: boolean
}

/** A subscription's identity. */
export interface SubscriptionKey {
  topic: string
  function_path: string
}

/** One `emit`, validated. */
export interface EnqueueRequest {
  topic: string
  /** The event data as JSON text; stored and delivered as it is. */
  data: string
  idempotency_key?: string
  message_group_id?: string
  /** Deliveries become due this long after `now`. */
  delay_ms?: number
  traceparent?: string
  baggage?: string
}

export interface EnqueueResult {
  event_id: string
  /** True when the idempotency key was seen within the idempotency TTL: nothing was stored. */
  duplicate: boolean
  /** Deliveries created (one per subscription of the topic that had not expired). */
  deliveries: number
}

/** A claimed delivery, in flight until acknowledged, retried, dead-lettered or its lease ends. */
export interface Delivery {
  /** The delivery's id (opaque; unique in the store). */
  id: string
  event_id: string
  topic: string
  function_path: string
  /** JSON text, exactly as emitted. */
  data: string
  /** This attempt's number, 1 for the first. It is also the lease token: see {@link LeaseRef}. */
  attempt: number
  message_group_id: string | null
  traceparent: string | null
  baggage: string | null
  emitted_ms: number
  first_attempt_ms: number
}

/** One subscription's part of a {@link EventQueue.claim} batch. */
export interface ClaimRequest {
  key: SubscriptionKey
  /** Claim at most this many (the subscription's free concurrency). */
  limit: number
  /** The lease of every delivery claimed ends here. */
  leaseUntil: number
}

export interface ClaimResult {
  deliveries: Delivery[]
  /**
   * When fewer than `limit` were claimed: the earliest time after `now` at which a waiting
   * delivery of the subscription becomes due (null when none is waiting). Null otherwise.
   */
  next_due: number | null
}

/**
 * Names one claim of a delivery. A retry or dead-letter with a ref whose attempt is no longer
 * the delivery's current one (its lease ended and it was claimed again) changes nothing.
 */
export interface LeaseRef {
  id: string
  attempt: number
}

/** The last error of a failed delivery, as it is kept in the dead letters. */
export interface DeliveryError {
  code: string
  message: string
}

export interface DeadLetter {
  id: string
  event_id: string
  topic: string
  function_path: string
  /** JSON text. */
  data: string
  error: DeliveryError
  attempts: number
  first_attempt_ms: number | null
  failed_at_ms: number
  message_group_id: string | null
  traceparent: string | null
}

/** Which dead letters an operation touches: one by id, or all of a topic and/or function. */
export type DeadLetterSelector = { id: string } | { topic?: string; function_path?: string }

export interface DeadLetterPage {
  items: DeadLetter[]
  /** Pass back as `cursor` for the next page; absent on the last page. */
  next_cursor?: string
}

export interface SubscriptionStats extends SubscriptionKey {
  /** Waiting and due (including FIFO deliveries held behind their group's head). */
  pending: number
  in_flight: number
  /** Waiting and not due yet (`delay_ms`, or a retry's backoff). */
  delayed: number
  dead: number
}

export interface SweepOptions {
  /** A released subscription this long ago expires: its deliveries go to the dead letters. */
  subscription_ttl_ms: number
  /** Dead letters older than this are deleted. */
  dead_letter_retention_ms: number
}

export interface SweepResult {
  /** Deliveries moved to the dead letters because their subscription expired. */
  expired: number
  /** Dead letters deleted by retention. */
  purged: number
  /** In-flight deliveries whose lease had ended, made claimable again. */
  unleased: number
}

export interface EventQueue {
  readonly name: string

  /**
   * Makes recovery after a crash explicit: every in-flight delivery becomes pending and due
   * now (its attempt stays counted), and every subscription counts as released at `now` (no
   * worker is connected to a freshly started engine). Called once, at start-up, by the only
   * engine using the store; a shared store (Redis) relies on lease expiry instead and treats
   * this as a no-op for subscriptions other engines hold.
   */
  recover(now: number): Promise<void>

  /**
   * Creates or updates a subscription with its policy and marks it live: emits create
   * deliveries for it, and it never expires while live. Re-subscribing an expired or released
   * subscription revives it (with the deliveries still waiting for it).
   */
  subscribe(key: SubscriptionKey, policy: RetryPolicy, now: number): Promise<void>

  /**
   * Marks a subscription released at `now` (its last trigger went away). Emits still create
   * deliveries for it until `sweep` expires it, `subscription_ttl_ms` later.
   */
  release(key: SubscriptionKey, now: number): Promise<void>

  /**
   * Stores a batch of emits in one commit (group commit) and answers one result per request,
   * in order. Per request: when `idempotency_key` was stored for the same topic within
   * `idempotencyTtlMs`, the result is the first event's id with `duplicate: true` and nothing
   * is stored (this holds inside one batch too); otherwise the event and one delivery per
   * non-expired subscription of its topic are stored, due at `now + delay_ms`, and the key is
   * kept until `now + idempotencyTtlMs`. An event no subscription takes stores only its key.
   */
  enqueue(batch: EnqueueRequest[], now: number, idempotencyTtlMs: number): Promise<EnqueueResult[]>

  /**
   * Claims, for each request in one commit, up to `limit` due deliveries of its subscription,
   * oldest first, each under a lease ending at `leaseUntil`, and counts the attempt. For a FIFO subscription only the oldest
   * waiting or in-flight delivery of each message group can be claimed, so a group has at most
   * one delivery in flight and a failing one holds its group until it succeeds or is dead.
   * A delivery whose lease ended without being settled is claimable again after the next
   * {@link EventQueue.sweep}.
   */
  claim(requests: ClaimRequest[], now: number): Promise<ClaimResult[]>

  /** Removes acknowledged deliveries (done). Unknown ids are ignored: ack is idempotent. */
  ack(ids: string[]): Promise<void>

  /**
   * Puts a claimed delivery back, due at `at`, remembering `error`. With `countAttempt: false`
   * the claim does not count as an attempt (the function was not there to run it).
   */
  retry(ref: LeaseRef, at: number, error: DeliveryError | null, countAttempt: boolean): Promise<void>

  /** Moves a claimed delivery to the dead letters, failed at `now`. */
  deadLetter(ref: LeaseRef, error: DeliveryError, now: number): Promise<void>

  /** The earliest time after `now` at which a delivery of the subscription becomes due. */
  nextDue(key: SubscriptionKey, now: number): Promise<number | null>

  /** Dead letters, oldest first, optionally of one topic and/or function. */
  listDeadLetters(
    filter: { topic?: string; function_path?: string },
    limit: number,
    cursor?: string,
  ): Promise<DeadLetterPage>

  /**
   * Makes the selected dead letters deliveries again: due now, attempts back to 0, behind
   * every delivery already waiting in their FIFO group. Answers how many.
   */
  redrive(selector: DeadLetterSelector, now: number): Promise<number>

  /** Deletes the selected dead letters; answers how many. */
  discard(selector: DeadLetterSelector): Promise<number>

  /** Counts per subscription (every subscription the store knows, expired ones included). */
  stats(now: number): Promise<SubscriptionStats[]>

  /**
   * Housekeeping, run about once a second: expires released subscriptions after their TTL
   * (their waiting and in-flight deliveries become dead letters with `function_not_found`),
   * deletes dead letters past retention and idempotency keys past their TTL, and ends leases
   * that ran out.
   */
  sweep(now: number, options: SweepOptions): Promise<SweepResult>

  /**
   * A queue shared by several engines (Redis) calls `listener` with a topic when deliveries of
   * it may have become claimable through another engine (an emit, a redrive, an ended lease).
   * A queue only this engine uses does not implement it.
   */
  onWork?(listener: (topic: string) => void): void

  close(): Promise<void>
}
