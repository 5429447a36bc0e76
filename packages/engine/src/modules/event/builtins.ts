/**
 * The dead-letter and stats built-ins of durable events:
 *
 * - `events.deadLetters.list {topic?, function_path?, limit? (1-1000, default 100), cursor?}`
 *   -> `{items: [{id, event_id, topic, function_path, data, error: {code, message}, attempts,
 *   first_attempt_ms, failed_at_ms, trace_id, message_group_id}], next_cursor?}`, oldest first
 * - `events.deadLetters.redrive {id} | {topic?, function_path?}` -> `{redriven}`
 * - `events.deadLetters.discard {id} | {topic?, function_path?}` -> `{discarded}`
 * - `events.stats {}` -> `{subscriptions: [{topic, function_path, pending, in_flight, delayed, dead}]}`
 */

import * as z from 'zod/mini'
import { ErrorCode, IIIError } from '../../errors.js'
import { int, str } from '../../schema.js'
import type { EngineApi } from '../module.js'
import type { Dispatcher } from './dispatcher.js'
import type { DeadLetter, DeadLetterSelector, EventQueue } from './queue.js'

const name = () => str(z.minLength(1), z.maxLength(512))
const filterShape = { topic: z.optional(name()), function_path: z.optional(name()) }
const filterSchema = z.strictObject(filterShape)
const listSchema = z.strictObject({
  ...filterShape,
  limit: z.optional(int(z.gte(1), z.lte(1000))),
  cursor: z.optional(str(z.maxLength(64))),
})
const selectorSchema = z.union([z.strictObject({ id: str(z.minLength(1), z.maxLength(64)) }), filterSchema])

function parse<T>(schema: z.ZodMiniType<T>, input: unknown, fn: string, shape: string): T {
  const r = schema.safeParse(input ?? {})
  if (r.success) return r.data
  const issue = r.error.issues[0]
  const field = issue.path.length > 0 ? ` (field ${issue.path.join('.')})` : ''
  throw new IIIError(ErrorCode.InvalidArgument, `${fn} needs ${shape}${field}: ${issue.message}`)
}

/** The trace id (32 hex digits) of a W3C traceparent, or null. */
function traceIdOf(traceparent: string | null): string | null {
  const m = traceparent === null ? null : /^[0-9a-f]{2}-([0-9a-f]{32})-/.exec(traceparent)
  return m ? m[1] : null
}

function item(d: DeadLetter) {
  return {
    id: d.id,
    event_id: d.event_id,
    topic: d.topic,
    function_path: d.function_path,
    data: JSON.parse(d.data),
    error: d.error,
    attempts: d.attempts,
    first_attempt_ms: d.first_attempt_ms,
    failed_at_ms: d.failed_at_ms,
    trace_id: traceIdOf(d.traceparent),
    message_group_id: d.message_group_id,
  }
}

export function registerEventBuiltins(engine: EngineApi, queue: EventQueue, dispatcher: Dispatcher): void {
  engine.registerFunction(
    'events.deadLetters.list',
    async (input) => {
      const o = parse(listSchema, input, 'events.deadLetters.list', '{topic?, function_path?, limit?, cursor?}')
      const page = await queue.listDeadLetters(o, o.limit ?? 100, o.cursor)
      return page.next_cursor === undefined
        ? { items: page.items.map(item) }
        : { items: page.items.map(item), next_cursor: page.next_cursor }
    },
    { description: 'Lists dead-lettered event deliveries, oldest first: {topic?, function_path?, limit?, cursor?}' },
  )
  engine.registerFunction(
    'events.deadLetters.redrive',
    async (input) => {
      const s = parse(selectorSchema, input, 'events.deadLetters.redrive', '{id} or {topic?, function_path?}')
      const redriven = await queue.redrive(s as DeadLetterSelector, Date.now())
      if (redriven > 0) dispatcher.pumpAll()
      return { redriven }
    },
    { description: 'Delivers dead letters again with a fresh attempt count: {id} or {topic?, function_path?}' },
  )
  engine.registerFunction(
    'events.deadLetters.discard',
    async (input) => {
      const s = parse(selectorSchema, input, 'events.deadLetters.discard', '{id} or {topic?, function_path?}')
      return { discarded: await queue.discard(s as DeadLetterSelector) }
    },
    { description: 'Deletes dead letters: {id} or {topic?, function_path?}' },
  )
  engine.registerFunction(
    'events.stats',
    async (input) => {
      parse(z.strictObject({}), input, 'events.stats', '{}')
      return { subscriptions: await queue.stats(Date.now()) }
    },
    { description: 'Counts per subscription: {} -> {subscriptions: [{topic, function_path, pending, ...}]}' },
  )
}
