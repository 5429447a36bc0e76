/**
 * The shapes a Motia project is written in: step configs (`*.step.ts`), stream configs
 * (`*.stream.ts`), the input a handler gets, and the FlowContext.
 *
 * The call shape (shared with Python Motia): a handler and each of its conditions are called
 * `(input, ctx)` where `input` is the ApiRequest for an `api` trigger and the trigger's payload
 * otherwise. The normalized {@link TriggerInput} `{trigger, request, data}` is at `ctx.input`.
 */
import type { ApiRequest, ApiResponse, EmitOptions, EmitResult, Logger, State, Stream } from '@iii-dev/sdk'

export type { ApiRequest, ApiResponse }

/** Anything with Zod's `safeParse` (Zod 3 or 4 schemas, or a look-alike). */
export interface Schema<T = unknown> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: unknown[] } }
}

/** A condition: runs before the handler (evaluated by the engine); `false` skips the call. */
export type Condition<TInput = any> = (input: TInput, ctx: FlowContext) => boolean | Promise<boolean>

/**
 * API middleware. Call `next()` to run the rest of the chain (optionally with another request
 * or context), or return a response without calling it to answer early.
 */
export type Middleware = (
  req: ApiRequest,
  ctx: FlowContext,
  next: (req?: ApiRequest, ctx?: FlowContext) => Promise<ApiResponse>,
) => ApiResponse | Promise<ApiResponse>

interface TriggerBase {
  /** One condition, or several run in order (the first `false` stops the call). */
  condition?: Condition | Condition[]
}

export interface ApiTrigger extends TriggerBase {
  type: 'api'
  /** Route path, `:name` segments become `req.path_params.name`. */
  path: string
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | Lowercase<string> | string
  /** The first listed runs outermost. */
  middleware?: Middleware[]
  /** Validates (and replaces with the parsed value) `req.body`; a failure answers 400. */
  bodySchema?: Schema
  /** Validates (and replaces) `req.query_params`; a failure answers 400. */
  querySchema?: Schema
}

export interface EventTrigger extends TriggerBase {
  type: 'event'
  topic: string
  /** Retry policy of durable events (docs/events.md), passed to the engine's trigger config. */
  max_attempts?: number
  backoff?: { type?: 'exponential' | 'fixed'; initial_ms?: number; max_ms?: number; jitter?: boolean }
  timeout_ms?: number
  concurrency?: number
  fifo?: boolean
}

export interface CronTrigger extends TriggerBase {
  type: 'cron'
  /** 5 fields, or 6 with seconds first. */
  expression: string
  timezone?: string
}

export interface StateTrigger extends TriggerBase {
  type: 'state'
  /** Only changes of this group; every group when left out. */
  groupId?: string
}

export interface StreamTrigger extends TriggerBase {
  type: 'stream'
  streamName: string
  groupId?: string
  itemId?: string
}

export type Trigger = ApiTrigger | EventTrigger | CronTrigger | StateTrigger | StreamTrigger
export type TriggerType = Trigger['type']

/** What a `*.step.ts` file exports as `config`. */
export interface StepConfig {
  /** Unique in the project; the functions are `steps.{name}:trigger:{index}`. */
  name: string
  description?: string
  triggers: Trigger[]
  /** Topics this step emits (documentation; emitting another topic logs a warning). */
  emits?: string[]
  /** Flows this step belongs to (documentation, sent as function metadata). */
  flows?: string[]
}

/** What a `*.stream.ts` file exports as `config`. */
export interface StreamConfig {
  name: string
  /** When given, `ctx.streams[name].set(...)` validates the item and stores the parsed value. */
  schema?: Schema
}

/** Which trigger ran the handler. */
export interface TriggerMetadata {
  type: TriggerType
  /** The trigger's position in `config.triggers`. */
  index: number
  /** The engine's id of the trigger that caused the call (absent on a direct call). */
  id?: string
  path?: string
  method?: string
  topic?: string
  expression?: string
  stream_name?: string
  group_id?: string
  item_id?: string
}

/** The normalized input of every trigger. */
export interface TriggerInput<TData = any> {
  trigger: TriggerMetadata
  /** The HTTP request, for `api` triggers only. */
  request: ApiRequest | null
  /** The request body for `api`, the payload for the other triggers. */
  data: TData
}

/** `ctx.state`: the engine's state store (groups of items). */
export type StateManager = Pick<State, 'get' | 'set' | 'delete' | 'getGroup' | 'listGroups' | 'clear' | 'update'>

export type FlowLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>

/** Publishes an event: `emit(topic, data)` or `emit({topic, data})`. */
export interface Emit {
  (topic: string, data?: unknown, options?: EmitOptions): Promise<EmitResult>
  (event: { topic: string; data?: unknown }, options?: EmitOptions): Promise<EmitResult>
}

/** What every handler, condition and middleware gets as `ctx`. */
export interface FlowContext {
  emit: Emit
  trigger: TriggerMetadata
  /** The normalized input `{trigger, request, data}`. */
  input: TriggerInput
  state: StateManager
  /** The project's streams (`*.stream.ts`) by name. */
  streams: Record<string, Stream>
  /** Lines carry the trace id and the step's function path `steps.{name}:trigger:{i}`. */
  logger: FlowLogger
  traceId: string
  /** The step's name. */
  step: string
  /** Middleware may add their own fields (`ctx.user = ...`). */
  [key: string]: unknown
}

export type ApiHandler = (req: ApiRequest, ctx: FlowContext) => ApiResponse | Promise<ApiResponse>
export type StepHandler = (input: any, ctx: FlowContext) => unknown

/** A loaded step: its config, handler and where it came from. */
export interface StepDefinition {
  config: StepConfig
  handler: StepHandler
  file?: string
}
