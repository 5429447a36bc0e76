/**
 * The error catalogue of iii. Every error that crosses a socket or an HTTP response is
 * `{code, message, details?}` with a code from this list; anything else thrown is normalized
 * once, by {@link toWireError}, at the boundary. The list is exactly the codes of
 * `protocol/errors.json` (with their HTTP status, retryability and raising side), checked by
 * `packages/protocol/test/catalogue.test.ts`; docs/errors.md explains each.
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
  /** The shared store (Redis) is unreachable or did not answer in time. */
  StoreUnavailable: 'store_unavailable',
  Internal: 'internal_error',
  /** The worker's identity may not do this (docs/security.md). */
  Forbidden: 'forbidden',
  /** A per-connection limit is reached (calls in flight, registrations). */
  TooManyRequests: 'too_many_requests',
  /** A handler's answer: do not retry this event delivery, dead-letter it at once. */
  NonRetryable: 'non_retryable',
  /** SDK: the bridge was closed with `close()` / `disconnect()` while the operation waited. */
  BridgeClosed: 'bridge_closed',
  /** SDK: too many frames are queued while the socket is closed. */
  QueueFull: 'queue_full',
  /** SDK: `connect()` could not reach the engine within its connect timeout, or the engine refused the worker's token (401/403). */
  ConnectionFailed: 'connection_failed',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** The shape of every error on the wire. */
export interface WireError {
  code: string
  message: string
  details?: unknown
}

/**
 * An error with a stable code. The engine throws one on purpose; `invokeFunction` rejects with
 * one; a handler may throw one to choose the code its caller sees.
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

/**
 * Turns anything thrown into a wire error: an `IIIError` or `{code, message}` keeps its code,
 * anything else becomes `fallbackCode` with its message (never its stack).
 */
export function toWireError(err: unknown, fallbackCode: string = ErrorCode.Internal): WireError {
  if (err instanceof IIIError) return err.toWire()
  if (isWireError(err)) return { code: err.code, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  return { code: fallbackCode, message }
}

export function isWireError(value: unknown): value is WireError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as WireError).code === 'string' &&
    typeof (value as WireError).message === 'string'
  )
}
