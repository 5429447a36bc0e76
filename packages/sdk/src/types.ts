/**
 * The shapes a bridge takes and gives: registration inputs and handles, call options, events, and
 * the small {@link Caller} / {@link Registrar} interfaces that `State`, `Stream` and the hooks
 * need (so they never import the bridge).
 */
import type { InvocationContext } from './context.js'
import type { ErrorFrame, JsonObject, TriggerMeta } from './protocol.js'

/** A function handler: gets the call's `data` and its context; may be sync or async. */
export type FunctionHandler<TInput = any, TOutput = unknown> = (
  data: TInput,
  context: InvocationContext,
) => TOutput | Promise<TOutput>

/** What `registerFunction` takes besides the handler. */
export interface FunctionMessage {
  function_path: string
  description?: string
  request_format?: unknown
  response_format?: unknown
  metadata?: JsonObject
}

export interface RegisterFunctionInput<TInput = any, TOutput = unknown> extends FunctionMessage {
  handler: FunctionHandler<TInput, TOutput>
}

/** Something registered that can be taken back. `unregister()` twice is safe. */
export interface Registration {
  unregister(): void
}

export interface FunctionRef extends Registration {
  function_path: string
}

export interface TriggerInput {
  trigger_type: string
  function_path: string
  config?: JsonObject
  /** Default: a random UUID. */
  id?: string
}

export interface TriggerRef extends Registration {
  id: string
}

export interface ConditionInput {
  function_path: string
  condition_function_path: string
  /** When given, also registers the condition function itself under `condition_function_path`. */
  handler?: FunctionHandler<any, boolean>
}

/** A trigger of a worker-owned type, as the engine forwards it to the owner. */
export interface TriggerConfig {
  id: string
  trigger_type: string
  function_path: string
  config: JsonObject
}

/**
 * What the owner of a trigger type implements. `registerTrigger` may throw (an `IIIError` to
 * choose the code, `invalid_trigger` otherwise) to refuse the trigger.
 */
export interface TriggerTypeHandler {
  registerTrigger(trigger: TriggerConfig): unknown | Promise<unknown>
  unregisterTrigger(trigger: TriggerConfig): unknown | Promise<unknown>
}

export interface TriggerTypeInput {
  id: string
  description?: string
}

export interface ServiceInput {
  id: string
  name?: string
  description?: string
  parent_service_id?: string | null
}

export interface InvokeOptions {
  /** Give up after this many ms (and tell the engine). Default: the bridge's `invocationTimeoutMs`. */
  timeoutMs?: number
  /** Makes the call trigger-caused, as the owner of a trigger type does when it fires one. */
  trigger?: TriggerMeta
}

/**
 * Events a bridge emits: `connected` (the socket opened and everything was replayed),
 * `disconnected` (it dropped; a reconnect is scheduled), `workerregistered` (worker id),
 * `engineerror` (an `error` frame from the engine that no pending call claimed).
 */
export interface BridgeEvents {
  connected: []
  disconnected: []
  workerregistered: [workerId: string]
  engineerror: [frame: ErrorFrame]
}

/** What `State` and `Stream` need of a bridge: calling a function. `Bridge` is one. */
export interface Caller {
  invokeFunction<TOutput = any>(function_path: string, data?: unknown, options?: InvokeOptions): Promise<TOutput>
}

/** What the hooks need of a bridge: registering a function and a trigger. `Bridge` is one. */
export interface Registrar {
  registerFunction<TInput = any, TOutput = unknown>(input: RegisterFunctionInput<TInput, TOutput>): FunctionRef
  registerTrigger(input: TriggerInput): TriggerRef
}
