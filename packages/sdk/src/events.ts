/**
 * Durable events from a worker: `emit` with its options, and the dead-letter and stats
 * built-ins (`events.deadLetters.*`, `events.stats`) with their types. Use `new Events(bridge)`,
 * or `new Events()` for the default bridge. The guarantees are in docs/events.md.
 */
import { useDefault } from './default-slot.js'
import { ErrorCode, IIIError } from './errors.js'
import type { Caller } from './types.js'

/** Options of one `emit`. */
export interface EmitOptions {
  /** A second emit with the same key on the same topic within the idempotency TTL (24 h) is dropped. */
  idempotencyKey?: string
  /** With `fifo: true` on a trigger, events of one group are handled one at a time, in order. */
  messageGroupId?: string
  /** Deliver no sooner than this many milliseconds from now. */
  delayMs?: number
}

/** What the engine answers once the event is stored. */
export interface EmitResult {
  event_id: string
  /** True when the idempotency key was seen: the first `event_id`, nothing delivered again. */
  duplicate: boolean
}

export interface DeadLetter<T = unknown> {
  id: string
  event_id: string
  topic: string
  function_path: string
  data: T
  error: { code: string; message: string }
  attempts: number
  first_attempt_ms: number | null
  failed_at_ms: number
  trace_id: string | null
  message_group_id: string | null
}

export interface DeadLetterPage<T = unknown> {
  items: DeadLetter<T>[]
  next_cursor?: string
}

/** One dead letter by id, or every one of a topic and/or function (none given: all). */
export type DeadLetterSelector = { id: string } | { topic?: string; function_path?: string }

export interface SubscriptionStats {
  topic: string
  function_path: string
  pending: number
  in_flight: number
  delayed: number
  dead: number
}

/** The `emit` input for these options (the wire names are snake_case). */
export function emitInput(topic: string, data: unknown, options: EmitOptions = {}): Record<string, unknown> {
  const input: Record<string, unknown> = { topic, data: data === undefined ? null : data }
  if (options.idempotencyKey !== undefined) input.idempotency_key = options.idempotencyKey
  if (options.messageGroupId !== undefined) input.message_group_id = options.messageGroupId
  if (options.delayMs !== undefined) input.delay_ms = options.delayMs
  return input
}

/** Durable events through one bridge. Every method is one call to an engine built-in. */
export class Events {
  /** @param bridge the bridge (any {@link Caller}) to use; the default bridge (looked up at each call) when left out */
  constructor(private readonly bridge?: Caller) {}

  private call<R>(fn: string, data: Record<string, unknown>): Promise<R> {
    try {
      return (this.bridge ?? useDefault()).invokeFunction<R>(fn, data)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** Stores an event for every subscriber; resolves once it is stored. */
  emit(topic: string, data?: unknown, options: EmitOptions = {}): Promise<EmitResult> {
    if (typeof topic !== 'string' || topic.length === 0) {
      return Promise.reject(new IIIError(ErrorCode.InvalidArgument, 'emit needs a non-empty topic'))
    }
    return this.call('emit', emitInput(topic, data, options))
  }

  /** Dead letters, oldest first; pass `next_cursor` back as `cursor` for the next page. */
  listDeadLetters<T = unknown>(
    filter: { topic?: string; function_path?: string; limit?: number; cursor?: string } = {},
  ): Promise<DeadLetterPage<T>> {
    return this.call('events.deadLetters.list', { ...filter })
  }

  /** Delivers the selected dead letters again, each with a fresh attempt count. */
  async redrive(selector: DeadLetterSelector = {}): Promise<number> {
    return (await this.call<{ redriven: number }>('events.deadLetters.redrive', { ...selector })).redriven
  }

  /** Deletes the selected dead letters. */
  async discard(selector: DeadLetterSelector = {}): Promise<number> {
    return (await this.call<{ discarded: number }>('events.deadLetters.discard', { ...selector })).discarded
  }

  /** Pending, in-flight, delayed and dead deliveries per subscription. */
  async stats(): Promise<SubscriptionStats[]> {
    return (await this.call<{ subscriptions: SubscriptionStats[] }>('events.stats', {})).subscriptions
  }
}

/**
 * Throw from a handler to refuse the call for good: a durable event delivery failing with it
 * goes to the dead letters at once, without retries. On the wire: code `non_retryable`.
 */
export class NonRetryableError extends IIIError {
  constructor(message: string, details?: unknown) {
    super(ErrorCode.NonRetryable, message, details)
    this.name = 'NonRetryableError'
  }
}

/**
 * Throw from a handler to have a durable event delivery retried after `retryAfterMs` instead
 * of its backoff (it still counts as an attempt). On the wire: `invocation_failed` with
 * `details: {retry_after_ms}`.
 */
export class RetryAfterError extends IIIError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(ErrorCode.InvocationFailed, message, { retry_after_ms: retryAfterMs })
    this.name = 'RetryAfterError'
  }
}
