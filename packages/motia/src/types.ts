/**
 * The shapes a Motia project is written in: step configs (`*.step.ts`), stream configs
 * (`*.stream.ts`), the input a handler gets, and the FlowContext.
 *
 * The call shape (shared with Python Motia): a handler and each of its conditions are called
 * `(input, ctx)` where `input` is the ApiRequest for an `api` trigger and the trigger's payload
 * otherwise. The normalized {@link TriggerInput} `{trigger, request, data}` is at `ctx.input`.
 */
import type { ApiResponse, Logger, ApiRequest as SdkApiRequest, SetResult, State, UpdateOp } from '@iii-dev/sdk'
import type { EmitFn, StreamsOf } from './typing.js'

export type { ApiResponse, SetResult, UpdateOp }

/**
 * The HTTP request of an `api` trigger: the engine's snake_case fields, and the camelCase
 * `pathParams` / `queryParams` the original Motia used (the same objects).
 */
export interface ApiRequest<TBody = any> extends SdkApiRequest<TBody> {
  pathParams: Record<string, string>
  queryParams: Record<string, string | string[]>
}

/** Anything with Zod's `safeParse` (Zod 3 or 4 schemas, or a look-alike). */
export interface Schema<T = unknown> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: unknown[] } }
}

/** A JSON Schema (any draft; `$schema` picks the Ajv dialect, draft-07 by default). */
export type JsonSchema = { readonly [key: string]: unknown } | boolean

/** A JSON Schema that remembers the type it describes (what `jsonSchema(zodSchema)` returns). */
export type TypedJsonSchema<T = unknown> = JsonSchema & { readonly __phantomType?: T }

/** What a schema field accepts: a Zod schema or a JSON Schema. */
export type StepSchemaInput = Schema | JsonSchema

/** A condition: runs before the handler (evaluated by the engine); a falsy result skips the call. */
export type Condition<TInput = any> = (input: TInput, ctx: FlowContext) => boolean | Promise<boolean>

/** The original Motia's name for a condition. */
export type TriggerCondition<TInput = unknown> = (input: any, ctx: FlowContext<TInput>) => boolean | Promise<boolean>

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
  /** One condition, or several run in order (the first falsy one stops the call). */
  condition?: Condition | readonly Condition[]
}

/** A documented query parameter (the original Motia's `queryParams`, shown in OpenAPI). */
export interface QueryParam {
  name: string
  description?: string
}

export interface ApiTrigger<TBody extends StepSchemaInput | undefined = any> extends TriggerBase {
  type: 'api'
  /** Route path, `:name` segments become `req.path_params.name` (and `req.pathParams.name`). */
  path: string
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | Lowercase<string> | string
  /** The first listed runs outermost. */
  middleware?: readonly Middleware[]
  /** Validates (and replaces with the parsed value) `req.body`; a failure answers 400. */
  bodySchema?: TBody
  /** Validates (and replaces) `req.query_params`; a failure answers 400. */
  querySchema?: StepSchemaInput
  /** Documentation (OpenAPI): the body schema of each status code's answer. Not enforced. */
  responseSchema?: Readonly<Record<number | string, StepSchemaInput>>
  /** Documentation (OpenAPI) of query parameters that have no `querySchema`. */
  queryParams?: readonly QueryParam[]
  /** Documentation (OpenAPI) of this route; the step's description when left out. */
  description?: string
}

export interface EventTrigger<TInput extends StepSchemaInput | undefined = any> extends TriggerBase {
  type: 'event'
  topic: string
  /** The event's data schema: types `ctx.emit` (`motia generate-types`) and the handler's input. */
  input?: TInput
  /** Accepted for compatibility with the original Motia; not used. */
  infrastructure?: unknown
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

/** A topic a step emits: its name, or the original's `{topic, label?, conditional?}`. */
export type EmitDeclaration = string | { topic: string; label?: string; conditional?: boolean }

/** What a `*.step.ts` file exports as `config`. */
export interface StepConfig {
  /** Unique on the engine; the functions are `steps.{name}:trigger:{index}`. */
  name: string
  description?: string
  triggers: readonly Trigger[]
  /** Topics this step emits (documentation; emitting another topic logs a warning). */
  emits?: readonly EmitDeclaration[]
  /** Documentation only (flow diagrams of the original Motia): topics emitted outside `emit`. */
  virtualEmits?: readonly EmitDeclaration[]
  /** Documentation only: topics this step depends on without subscribing. */
  virtualSubscribes?: readonly string[]
  /** Flows this step belongs to (documentation, sent as function metadata). */
  flows?: readonly string[]
  /** Accepted for compatibility with the original Motia (a bundler hint); not used. */
  includeFiles?: readonly string[]
}

/** Which subscription a stream's `onJoin` / `onLeave` is asked about. */
export interface StreamSubscription {
  groupId: string
  /** The item id, for an item subscription. */
  id?: string
  streamName: string
  subscriptionId: string
}

/** What `onJoin` answers: `{unauthorized: true}` refuses the join. */
export interface StreamJoinResult {
  unauthorized: boolean
}

/** What a `*.stream.ts` file exports as `config`. */
export interface StreamConfig {
  name: string
  /** When given, `ctx.streams[name].set(...)` validates the item and stores the parsed value. */
  schema?: StepSchemaInput
  /** Accepted for compatibility with the original Motia (`{storageType: 'default'}`); not used. */
  baseConfig?: { storageType: string; [key: string]: unknown }
  /** Runs before a client's join of this stream takes effect; `{unauthorized: true}` refuses it. */
  onJoin?: (
    subscription: StreamSubscription,
    ctx: FlowContext,
    authContext?: any,
  ) => StreamJoinResult | boolean | undefined | Promise<StreamJoinResult | boolean | undefined>
  /** Runs when a subscription of this stream ends. */
  onLeave?: (subscription: StreamSubscription, ctx: FlowContext, authContext?: any) => unknown
}

/** What the stream socket's auth function is given (both spellings of the query). */
export interface StreamAuthInput {
  headers: Record<string, string>
  path: string
  /** Every value as a list, as the original Motia gave them. */
  queryParams: Record<string, string[]>
  query_params: Record<string, string | string[]>
  addr: string
}

/**
 * `export const authenticateStream` of `motia.config.ts`: `{context}` (or any truthy value)
 * accepts the stream socket connection, and `context` reaches `onJoin` / `onLeave` as
 * `authContext`; `null` / `false` / a throw refuses it (HTTP 401).
 */
export type AuthenticateStream = (
  input: StreamAuthInput,
  ctx: FlowContext,
) => Promise<{ context?: unknown } | boolean | null | undefined> | { context?: unknown } | boolean | null | undefined

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

/** What a `state` trigger delivers (both the original's and this engine's field names). */
export interface StateTriggerInput<T = unknown> {
  type: 'state'
  event_type: string
  group_id: string
  item_id: string
  old_value?: T | null
  new_value?: T | null
}

/** A change of a stream item. */
export type StreamEvent<T> = { type: 'create' | 'update' | 'delete'; data: T }

/** What a `stream` trigger delivers: the original's camelCase shape and the engine's snake_case. */
export interface StreamTriggerInput<T = unknown> {
  type: 'stream'
  timestamp: number
  streamName: string
  groupId: string
  id: string
  stream_name: string
  group_id: string
  item_id: string
  event: StreamEvent<T>
}

/** `ctx.state`: the engine's state store (groups of items). */
export type StateManager = Pick<State, 'get' | 'set' | 'delete' | 'getGroup' | 'listGroups' | 'clear' | 'update'>

export type FlowLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>

/** Publishes an event: `emit(topic, data)` or `emit({topic, data})`; typed by `motia generate-types`. */
export type Emit = EmitFn

/** A stream of the project (`ctx.streams[name]`), typed by its schema after `motia generate-types`. */
export interface MotiaStream<T = any> {
  readonly streamName: string
  get(groupId: string, id: string): Promise<T | null>
  set(groupId: string, id: string, data: T): Promise<SetResult<T>>
  delete(groupId: string, id: string): Promise<T | null>
  getGroup(groupId: string): Promise<T[]>
  listGroups(): Promise<string[]>
  update(groupId: string, id: string, ops: UpdateOp[]): Promise<SetResult<T>>
  /** A custom event (never stored): `send(groupId, type, data?, itemId?)` or the original's `send({groupId, id?}, {type, data})`. */
  send(groupId: string, type: string, data?: unknown, itemId?: string): Promise<null>
  send(channel: { groupId: string; id?: string }, event: { type: string; data?: unknown }): Promise<null>
}

/** The handlers of `ctx.match`: the one of the trigger that ran is called; `default` otherwise. */
export interface MatchHandlers<TResult = any> {
  api?: (request: ApiRequest) => TResult | Promise<TResult>
  event?: (data: any) => TResult | Promise<TResult>
  cron?: (payload: any) => TResult | Promise<TResult>
  state?: (input: StateTriggerInput<any>) => TResult | Promise<TResult>
  stream?: (input: StreamTriggerInput<any>) => TResult | Promise<TResult>
  default?: (input: any) => TResult | Promise<TResult>
}

/** What every handler, condition and middleware gets as `ctx`. */
export interface FlowContext<_TInput = unknown> {
  emit: Emit
  trigger: TriggerMetadata
  /** The normalized input `{trigger, request, data}`. */
  input: TriggerInput
  state: StateManager
  /** The project's streams (`*.stream.ts`) by name. */
  streams: StreamsOf
  /** Lines carry the trace id and the step's function path `steps.{name}:trigger:{i}`. */
  logger: FlowLogger
  traceId: string
  /** The step's name. */
  step: string
  /** The payload whatever the trigger: the body for `api`, the data for the others. */
  getData(): any
  /** Calls the handler of the trigger type that ran (or `default`); throws when there is none. */
  match<TResult = any>(handlers: MatchHandlers<NoInfer<TResult>>): Promise<TResult>
  /** Which trigger type ran: `ctx.is.api(input)`, `ctx.is.event(input)`, ... */
  is: {
    api(input: unknown): input is ApiRequest
    event(input: unknown): boolean
    cron(input: unknown): boolean
    state(input: unknown): input is StateTriggerInput<any>
    stream(input: unknown): input is StreamTriggerInput<any>
  }
  /** Middleware may add their own fields (`ctx.user = ...`). */
  [key: string]: unknown
}

export type ApiHandler = (req: ApiRequest, ctx: FlowContext) => ApiResponse | Promise<ApiResponse>
export type StepHandler = (input: any, ctx: FlowContext) => unknown

/** A loaded step: its config, handler and where it came from. */
export interface StepDefinition<TConfig extends StepConfig = StepConfig> {
  config: TConfig
  handler: StepHandler
  file?: string
}
