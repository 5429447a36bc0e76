/**
 * The SDK's error catalogue. Every failure the SDK reports is an {@link IIIError} with a stable
 * `code`: the engine's codes from `docs/protocol.md` pass through unchanged, and the SDK adds a
 * few of its own for things that happen on the worker's side of the socket.
 */

/** Error codes. The first group comes from the engine; the last two are the SDK's own. */
export const ErrorCode = {
  InvalidMessage: 'invalid_message',
  UnknownMessageType: 'unknown_message_type',
  FunctionNotFound: 'function_not_found',
  InvocationFailed: 'invocation_failed',
  InvocationStopped: 'invocation_stopped',
  InvocationTimeout: 'invocation_timeout',
  ConditionFailed: 'condition_failed',
  InvalidTrigger: 'invalid_trigger',
  TriggerConflict: 'trigger_conflict',
  TriggerRejected: 'trigger_rejected',
  TriggerTypeConflict: 'trigger_type_conflict',
  InvalidArgument: 'invalid_argument',
  /** The bridge was closed with `close()` / `disconnect()` while the operation waited. */
  BridgeClosed: 'bridge_closed',
  /** Too many frames are queued while the socket is closed (see `maxQueuedMessages`). */
  QueueFull: 'queue_full',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** The shape of every error on the wire: `{code, message, details?}`. */
export interface WireError {
  code: string
  message: string
  details?: unknown
}

/**
 * An error with a stable code. `invokeFunction` rejects with one; a handler may throw one to
 * choose the code its caller sees (any other throwable is reported as `invocation_failed`).
 */
export class IIIError extends Error {
  readonly code: string
  readonly details?: unknown

  constructor(code: string, message: string, details?: unknown) {
    super(message)
    this.name = 'IIIError'
    this.code = code
    if (details !== undefined) this.details = details
  }

  /** Builds an error from a wire error object. */
  static fromWire(err: WireError): IIIError {
    return new IIIError(err.code, err.message, err.details)
  }

  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
}

/** True for `{code: string, message: string, ...}`. */
export function isWireError(value: unknown): value is WireError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as WireError).code === 'string' &&
    typeof (value as WireError).message === 'string'
  )
}

/**
 * Normalizes whatever a handler threw into a wire error: an `IIIError` keeps its code, anything
 * else becomes `fallbackCode` with the error's message (never its stack).
 */
export function toWireError(err: unknown, fallbackCode: string = ErrorCode.InvocationFailed): WireError {
  if (err instanceof IIIError) return err.toWire()
  if (err instanceof Error) return { code: fallbackCode, message: err.message }
  return { code: fallbackCode, message: typeof err === 'string' ? err : String(err) }
}
