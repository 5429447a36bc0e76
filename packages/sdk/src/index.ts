/**
 * @iii-dev/sdk: connect a Node.js worker to the iii engine. Register functions and the triggers
 * that run them, call functions anywhere, use state and streams, log with the trace id.
 */
export {
  Bridge,
  type BridgeEvents,
  type BridgeOptions,
  type ConditionInput,
  createBridge,
  DEFAULT_BRIDGE_URL,
  type FunctionHandler,
  type FunctionMessage,
  type FunctionRef,
  getDefaultBridge,
  type InvokeOptions,
  logger,
  type RegisterFunctionInput,
  type Registration,
  type ServiceInput,
  setDefaultBridge,
  type TriggerConfig,
  type TriggerInput,
  type TriggerRef,
  type TriggerTypeHandler,
  type TriggerTypeInput,
} from './bridge.js'
export { getContext, type InvocationContext, newTraceparent, traceIdOf } from './context.js'
export { ErrorCode, IIIError, isWireError, type WireError } from './errors.js'
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
export { Logger, type LoggerOptions, type LogLevel, type LogRecord } from './logger.js'
export type { Frame, FrameType, JsonObject, TriggerMeta } from './protocol.js'
export * as protocol from './protocol.js'
export { State } from './state.js'
export { type SetResult, Stream, type UpdateOp } from './stream.js'
