/**
 * @iii-dev/sdk: connect a Node.js worker to the iii engine. Register functions and the triggers
 * that run them, call functions anywhere, use state and streams, log with the trace id.
 */
export { Bridge } from './bridge.js'
export { getContext, type InvocationContext, newTraceparent, traceIdOf } from './context.js'
export { createBridge, getDefaultBridge, setDefaultBridge } from './default-bridge.js'
export { logger } from './default-slot.js'
export { ErrorCode, IIIError, isWireError, type WireError } from './errors.js'
export {
  type DeadLetter,
  type DeadLetterPage,
  type DeadLetterSelector,
  type EmitOptions,
  type EmitResult,
  Events,
  NonRetryableError,
  RetryAfterError,
  type SubscriptionStats,
} from './events.js'
export {
  type ApiConfig,
  type ApiRequest,
  type ApiResponse,
  type CronInput,
  createHooks,
  type FunctionInfo,
  type HookOptions,
  type HookRef,
  type Hooks,
  useApi,
  useCron,
  useEvent,
  useFunctionsAvailable,
} from './hooks.js'
export {
  jsonLine,
  type LogFormat,
  Logger,
  type LoggerOptions,
  type LogLevel,
  type LogRecord,
  type LogWorker,
  SECRET_KEYS,
  SECRET_QUERY_PARAMS,
} from './logger.js'
export { type BridgeOptions, DEFAULT_BRIDGE_URL, DEFAULTS } from './options.js'
export type { Frame, FrameType, JsonObject, TriggerMeta } from './protocol.js'
export * as protocol from './protocol.js'
export { State } from './state.js'
export { type SetResult, Stream, type UpdateOp } from './stream.js'
export type {
  BridgeEvents,
  Caller,
  ConditionInput,
  FunctionHandler,
  FunctionMessage,
  FunctionRef,
  InvokeOptions,
  RegisterFunctionInput,
  Registrar,
  Registration,
  ServiceInput,
  TriggerConfig,
  TriggerInput,
  TriggerRef,
  TriggerTypeHandler,
  TriggerTypeInput,
} from './types.js'
