/**
 * The HTTP errors of the `api` module. Every error response is JSON
 * `{"error": "<code>", "message": "..."}` (plus `error_id` for 500s); the codes are stable and
 * listed in docs/http.md. Engine error codes keep their names.
 */
import { ErrorCode } from '../../errors.js'

/** An error that becomes an HTTP response as it is: status, code and a safe message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

/** How an engine error code is answered. `logged` errors get an `error_id` and a log line. */
interface Mapping {
  status: number
  message: string
  logged: boolean
}

const byCode: Record<string, Mapping> = {
  [ErrorCode.ConditionFailed]: { status: 422, message: 'a condition refused the request', logged: false },
  [ErrorCode.FunctionNotFound]: { status: 503, message: 'no worker serves this route right now', logged: false },
  [ErrorCode.InvocationStopped]: {
    status: 503,
    message: 'the worker handling the request went away',
    logged: false,
  },
  [ErrorCode.InvocationTimeout]: { status: 504, message: 'the handler did not answer in time', logged: false },
  [ErrorCode.StoreUnavailable]: { status: 503, message: 'the shared store is unavailable right now', logged: false },
  [ErrorCode.InvocationFailed]: { status: 500, message: 'the handler failed', logged: true },
}

const internal: Mapping = { status: 500, message: 'the request could not be handled', logged: true }

/** Maps an engine error code (from `engine.invoke`) to its HTTP answer; unknown codes are 500. */
export function mapEngineError(code: unknown): Mapping & { code: string } {
  if (typeof code === 'string') {
    const m = byCode[code]
    if (m !== undefined) return { ...m, code }
  }
  return { ...internal, code: ErrorCode.Internal }
}

export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
}
