/** The shapes a {@link Bridge} takes and gives: options, registration inputs and handles. */
import type { InvocationContext } from './context.js'
import type { LogLevel } from './logger.js'
import type { ErrorFrame, JsonObject, TriggerMeta } from './protocol.js'

/** Options of a bridge. Every field is optional; the defaults are listed per field. */
export interface BridgeOptions {
  /** Engine address; default `III_BRIDGE_URL`, else `ws://127.0.0.1:49134`. */
  url?: string
  /** A name for this worker, shown by `engine.workers.list`; default `III_WORKER_NAME`. */
  workerName?: string
  /** Bearer token for the engine's worker authentication, sent in the handshake. Never logged. */
  token?: string
  /** Default timeout of `invokeFunction`, in ms (sent to the engine as `timeout_ms`). Default 30000. */
  invocationTimeoutMs?: number
  /** First reconnect delay cap in ms; doubles per failed attempt. Default 100. */
  reconnectInitialDelayMs?: number
  /** Largest reconnect delay cap in ms. Default 5000. */
  reconnectMaxDelayMs?: number
  /** Handshake timeout of one connection attempt, in ms. Default 10000. */
  connectTimeoutMs?: number
  /** WebSocket ping interval for detecting a dead engine, in ms; 0 turns it off. Default 20000. */
  pingIntervalMs?: number
  /** Most frames kept while the socket is closed; more reject with `queue_full`. Default 10000. */
  maxQueuedMessages?: number
  /** Also send handler logs to the engine's `logger.log`. Default true. */
  forwardLogs?: boolean
  /** Lowest level written locally (and forwarded). Default `III_LOG_LEVEL`, else `info`. */
  logLevel?: LogLevel | 'silent'
}

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
