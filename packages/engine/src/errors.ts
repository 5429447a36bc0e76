/**
 * The engine's error catalogue. Every error that crosses a socket or an HTTP response is
 * `{code, message, details?}` with a code from this list; anything else thrown inside the
 * engine is normalized once, by {@link toWireError}, at the boundary.
 */
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
  NotFound: 'not_found',
  PayloadTooLarge: 'payload_too_large',
  Internal: 'internal_error',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** The shape of every error on the wire. */
export interface WireError {
  code: string
  message: string
  details?: unknown
}

/** An error with a stable code; what the engine throws on purpose. */
export class IIIError extends Error {
  readonly code: string
  readonly details?: unknown

  constructor(code: string, message: string, details?: unknown) {
    super(message)
    this.name = 'IIIError'
    this.code = code
    if (details !== undefined) this.details = details
  }

  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
}

/** Turns anything thrown into a wire error; unknown throwables become `internal_error`. */
export function toWireError(err: unknown): WireError {
  if (err instanceof IIIError) return err.toWire()
  if (isWireError(err)) return { code: err.code, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  return { code: ErrorCode.Internal, message }
}

export function isWireError(value: unknown): value is WireError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as WireError).code === 'string' &&
    typeof (value as WireError).message === 'string'
  )
}
