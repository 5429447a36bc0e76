/**
 * Input rules of the event module: an `event` trigger's config (the retry policy), an `emit`'s
 * input, and the backoff between attempts. Every refusal is one coded error whose message names
 * the field: `invalid_trigger` at registration, `invalid_argument` at emit.
 */

import * as z from 'zod/mini'
import { ErrorCode, IIIError } from '../../errors.js'
import '../../schema.js'
import type { BackoffPolicy, RetryPolicy } from './queue.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** The longest `delay_ms`, backoff and `retry_after_ms` accepted: 30 days. */
export const MAX_DELAY_MS = 30 * DAY
export const MAX_ATTEMPTS = 100
export const MAX_CONCURRENCY = 1000
const MAX_KEY = 512

const intIn = (min: number, max: number) => {
  const error = `must be an integer from ${min} to ${max}`
  return z.number({ error }).check(z.int({ error }), z.gte(min, { error }), z.lte(max, { error }))
}
const text = (max: number) => {
  const error = `must be a non-empty string of at most ${max} characters`
  return z.string({ error }).check(z.minLength(1, { error }), z.maxLength(max, { error }))
}
const bool = z.boolean({ error: 'must be true or false' })

export const DEFAULT_BACKOFF: BackoffPolicy = { type: 'exponential', initial_ms: 1000, max_ms: 300_000, jitter: true }

const backoffSchema = z
  .strictObject({
    type: z._default(z.enum(['exponential', 'fixed'], { error: 'must be "exponential" or "fixed"' }), 'exponential'),
    initial_ms: z._default(intIn(0, MAX_DELAY_MS), DEFAULT_BACKOFF.initial_ms),
    max_ms: z._default(intIn(0, MAX_DELAY_MS), DEFAULT_BACKOFF.max_ms),
    jitter: z._default(bool, DEFAULT_BACKOFF.jitter),
  })
  .check(
    z.refine((b) => b.initial_ms <= b.max_ms, {
      error: 'initial_ms must not be larger than max_ms',
      path: ['initial_ms'],
    }),
  )

const triggerSchema = z.strictObject({
  topic: text(MAX_KEY),
  max_attempts: z._default(intIn(1, MAX_ATTEMPTS), 3),
  backoff: z._default(backoffSchema, DEFAULT_BACKOFF),
  timeout_ms: z.optional(intIn(1, DAY)),
  concurrency: z._default(intIn(1, MAX_CONCURRENCY), 16),
  fifo: z._default(bool, false),
})

const emitSchema = z.strictObject({
  topic: text(MAX_KEY),
  data: z.unknown(),
  idempotency_key: z.optional(text(MAX_KEY)),
  message_group_id: z.optional(text(MAX_KEY)),
  delay_ms: z.optional(intIn(0, MAX_DELAY_MS)),
})

export type EmitInput = z.infer<typeof emitSchema>

/** One sentence for the first problem zod found, naming the field (and the value, briefly). */
function describe(issue: z.core.$ZodIssue, input: unknown, prefix: string): string {
  if (issue.code === 'unrecognized_keys') {
    const at = issue.path.length > 0 ? `${prefix}${issue.path.join('.')}` : prefix.replace(/\.$/, '')
    return `${at} has an unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`
  }
  let value: unknown = input
  for (const k of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[k]
  const got = value === undefined ? 'it is missing' : `got ${JSON.stringify(value)?.slice(0, 60)}`
  return `${prefix}${issue.path.join('.')} ${issue.message} (${got})`
}

/**
 * Validates an `event` trigger's config and resolves its retry policy; `timeoutMs` is the
 * default for `timeout_ms` (the engine's invocation timeout).
 */
export function parseTriggerConfig(
  id: string,
  config: unknown,
  timeoutMs: number,
): { topic: string; policy: RetryPolicy } {
  const r = triggerSchema.safeParse(config)
  if (!r.success) {
    throw new IIIError(
      ErrorCode.InvalidTrigger,
      `event trigger ${id}: ${describe(r.error.issues[0], config, 'config.')}`,
    )
  }
  const { topic, timeout_ms, ...rest } = r.data
  return { topic, policy: { ...rest, timeout_ms: timeout_ms ?? timeoutMs } }
}

/** Validates the input of `emit`. */
export function parseEmit(input: unknown): EmitInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new IIIError(ErrorCode.InvalidArgument, 'emit needs an object {topic, data} with a non-empty string topic')
  }
  const r = emitSchema.safeParse(input)
  if (!r.success) throw new IIIError(ErrorCode.InvalidArgument, `emit: ${describe(r.error.issues[0], input, '')}`)
  return r.data
}

/**
 * The wait before the next attempt after `failed` attempts failed (1 after the first):
 * exponential doubles from `initial_ms`, fixed keeps it, both capped at `max_ms`; jitter
 * spreads it uniformly over [delay/2, delay].
 */
export function backoffDelay(b: BackoffPolicy, failed: number, random: () => number = Math.random): number {
  const raw = b.type === 'fixed' ? b.initial_ms : b.initial_ms * 2 ** Math.max(0, failed - 1)
  const delay = Math.min(raw, b.max_ms)
  return b.jitter ? Math.round(delay / 2 + (random() * delay) / 2) : delay
}

/**
 * `error.details.retry_after_ms` of a handler's error, when it is a non-negative number
 * (capped at {@link MAX_DELAY_MS}); it replaces the backoff before the next attempt.
 */
export function retryAfter(details: unknown): number | undefined {
  if (typeof details !== 'object' || details === null) return undefined
  const v = (details as { retry_after_ms?: unknown }).retry_after_ms
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return undefined
  return Math.min(Math.round(v), MAX_DELAY_MS)
}
