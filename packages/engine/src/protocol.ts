/**
 * The bridge protocol: frame types, decoding with validation, and encoding. No sockets here;
 * `bridge.ts` is the I/O edge. The names match `docs/protocol.md` and both SDKs.
 */
import { scanEnvelope } from './envelope.js'
import { ErrorCode, IIIError, type WireError } from './errors.js'
import { RawJson } from './raw-json.js'

export { RawJson }

export type JsonObject = Record<string, unknown>

/** What a trigger-caused call carries about its trigger. */
export interface TriggerMeta {
  type: string
  id: string
  index?: number
  path?: string
  method?: string
  topic?: string
  expression?: string
  [key: string]: unknown
}

export interface RegisterFunction {
  type: 'registerfunction'
  function_path: string
  description?: string
  request_format?: unknown
  response_format?: unknown
  metadata?: JsonObject
}
export interface UnregisterFunction {
  type: 'unregisterfunction'
  function_path: string
}
export interface RegisterTrigger {
  type: 'registertrigger'
  id: string
  trigger_type: string
  function_path: string
  config: JsonObject
}
export interface UnregisterTrigger {
  type: 'unregistertrigger'
  id: string
  trigger_type?: string
}
export interface RegisterCondition {
  type: 'registercondition'
  function_path: string
  condition_function_path: string
}
export interface UnregisterCondition {
  type: 'unregistercondition'
  function_path: string
  condition_function_path: string
}
export interface RegisterTriggerType {
  type: 'registertriggertype'
  id: string
  description?: string
}
export interface UnregisterTriggerType {
  type: 'unregistertriggertype'
  id: string
}
export interface TriggerRegistrationResult {
  type: 'triggerregistrationresult'
  id: string
  trigger_type: string
  function_path: string
  error?: WireError
}
export interface RegisterService {
  type: 'registerservice'
  id: string
  name?: string
  description?: string
  parent_service_id?: string | null
}
export interface InvokeFunction {
  type: 'invokefunction'
  invocation_id?: string
  function_path: string
  data: unknown
  trigger?: TriggerMeta
  traceparent?: string
  baggage?: string
  timeout_ms?: number
}
export interface InvocationResult {
  type: 'invocationresult'
  invocation_id: string
  function_path: string
  result?: unknown
  error?: WireError
  traceparent?: string
  baggage?: string
}
export interface WorkerRegistered {
  type: 'workerregistered'
  worker_id: string
}
export interface Ping {
  type: 'ping'
}
export interface Pong {
  type: 'pong'
}
export interface ErrorFrame {
  type: 'error'
  code: string
  message: string
  ref?: string
  details?: unknown
}

export type Frame =
  | RegisterFunction
  | UnregisterFunction
  | RegisterTrigger
  | UnregisterTrigger
  | RegisterCondition
  | UnregisterCondition
  | RegisterTriggerType
  | UnregisterTriggerType
  | TriggerRegistrationResult
  | RegisterService
  | InvokeFunction
  | InvocationResult
  | WorkerRegistered
  | Ping
  | Pong
  | ErrorFrame

export type FrameType = Frame['type']

type FieldKind = 'string' | 'object' | 'number' | 'error' | 'any' | 'string?null'
type FieldSpec = Record<string, FieldKind>
interface FrameSpec {
  required: FieldSpec
  optional: FieldSpec
}

const frameSpecs: Record<FrameType, FrameSpec> = {
  registerfunction: {
    required: { function_path: 'string' },
    optional: { description: 'string', request_format: 'any', response_format: 'any', metadata: 'object' },
  },
  unregisterfunction: { required: { function_path: 'string' }, optional: {} },
  registertrigger: {
    required: { id: 'string', trigger_type: 'string', function_path: 'string', config: 'object' },
    optional: {},
  },
  unregistertrigger: { required: { id: 'string' }, optional: { trigger_type: 'string' } },
  registercondition: { required: { function_path: 'string', condition_function_path: 'string' }, optional: {} },
  unregistercondition: { required: { function_path: 'string', condition_function_path: 'string' }, optional: {} },
  registertriggertype: { required: { id: 'string' }, optional: { description: 'string' } },
  unregistertriggertype: { required: { id: 'string' }, optional: {} },
  triggerregistrationresult: {
    required: { id: 'string', trigger_type: 'string', function_path: 'string' },
    optional: { error: 'error' },
  },
  registerservice: {
    required: { id: 'string' },
    optional: { name: 'string', description: 'string', parent_service_id: 'string?null' },
  },
  invokefunction: {
    required: { function_path: 'string' },
    optional: {
      invocation_id: 'string',
      data: 'any',
      trigger: 'object',
      traceparent: 'string',
      baggage: 'string',
      timeout_ms: 'number',
    },
  },
  invocationresult: {
    required: { invocation_id: 'string', function_path: 'string' },
    optional: { result: 'any', error: 'error', traceparent: 'string', baggage: 'string' },
  },
  workerregistered: { required: { worker_id: 'string' }, optional: {} },
  ping: { required: {}, optional: {} },
  pong: { required: {}, optional: {} },
  error: { required: { code: 'string', message: 'string' }, optional: { ref: 'string', details: 'any' } },
}

function checkField(frame: JsonObject, name: string, kind: FieldKind, required: boolean): void {
  const value = frame[name]
  if (value === undefined || (value === null && !required && kind !== 'any')) {
    if (required) throw invalid(`${frame.type} needs the field "${name}"`)
    return
  }
  switch (kind) {
    case 'string':
      if (typeof value !== 'string' || (required && value.length === 0))
        throw invalid(`${frame.type}.${name} must be a non-empty string`)
      return
    case 'string?null':
      if (typeof value !== 'string') throw invalid(`${frame.type}.${name} must be a string or null`)
      return
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${frame.type}.${name} must be an object`)
      return
    case 'number':
      if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value))
        throw invalid(`${frame.type}.${name} must be a positive number`)
      return
    case 'error': {
      const err = value as JsonObject
      if (typeof err !== 'object' || typeof err.code !== 'string' || typeof err.message !== 'string')
        throw invalid(`${frame.type}.${name} must be an object with string "code" and "message"`)
      return
    }
    case 'any':
      return
  }
}

function invalid(message: string): IIIError {
  return new IIIError(ErrorCode.InvalidMessage, message)
}

/** Names the frame in error replies: its id, its function path, or its type. */
export function frameRef(frame: unknown): string | undefined {
  if (typeof frame !== 'object' || frame === null) return undefined
  const f = frame as JsonObject
  for (const key of ['invocation_id', 'id', 'function_path', 'type']) {
    if (typeof f[key] === 'string') return f[key] as string
  }
  return undefined
}

/** Validates an already-parsed value as a frame. Throws an {@link IIIError} naming the problem. */
export function validateFrame(value: unknown): Frame {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new IIIError(ErrorCode.InvalidMessage, 'a frame must be a JSON object')
  }
  const frame = value as JsonObject
  const type = frame.type
  if (typeof type !== 'string') throw new IIIError(ErrorCode.InvalidMessage, 'a frame needs a string "type"')
  const spec = frameSpecs[type as FrameType]
  if (spec === undefined || !Object.hasOwn(frameSpecs, type)) {
    throw new IIIError(ErrorCode.UnknownMessageType, `unknown frame type "${type.slice(0, 64)}"`)
  }
  for (const name in spec.required) checkField(frame, name, spec.required[name], true)
  for (const name in spec.optional) checkField(frame, name, spec.optional[name], false)
  return frame as unknown as Frame
}

/** Frames at least this long are read by {@link scanEnvelope} instead of `JSON.parse`. */
export const LARGE_FRAME = 32 * 1024

/**
 * Parses and validates one text frame. Throws an {@link IIIError} naming the problem.
 * A large frame's `data` / `result` stays JSON text ({@link RawJson}): the engine forwards it
 * without parsing it.
 */
export function decodeFrame(text: string): Frame {
  if (text.length >= LARGE_FRAME) {
    const envelope = scanEnvelope(text)
    if (envelope !== undefined) return validateFrame(envelope)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new IIIError(ErrorCode.InvalidMessage, `frame is not valid JSON: ${(err as Error).message}`)
  }
  return validateFrame(value)
}

export function encodeFrame(frame: Frame): string {
  return JSON.stringify(frame)
}

export function errorFrame(err: WireError, ref?: string): string {
  const frame: ErrorFrame = { type: 'error', code: err.code, message: err.message }
  if (ref !== undefined) frame.ref = ref
  if (err.details !== undefined) frame.details = err.details
  return JSON.stringify(frame)
}

/** The text of an engine -> worker `invokefunction` frame, built without re-serializing `data`. */
export function encodeInvoke(
  invocationId: string,
  functionPath: string,
  data: unknown,
  trigger: TriggerMeta | undefined,
  traceparent: string | undefined,
  baggage: string | undefined,
): string {
  const dataText = data instanceof RawJson ? data.text : (JSON.stringify(data) ?? 'null')
  let text = `{"type":"invokefunction","invocation_id":"${invocationId}","function_path":${JSON.stringify(functionPath)},"data":${dataText}`
  if (trigger !== undefined) text += `,"trigger":${JSON.stringify(trigger)}`
  if (traceparent !== undefined) text += `,"traceparent":${JSON.stringify(traceparent)}`
  if (baggage !== undefined) text += `,"baggage":${JSON.stringify(baggage)}`
  return `${text}}`
}

/** The text of an `invocationresult` frame. */
export function encodeResult(invocationId: string, functionPath: string, result: unknown): string {
  const resultText = result instanceof RawJson ? result.text : (JSON.stringify(result) ?? 'null')
  return `{"type":"invocationresult","invocation_id":${JSON.stringify(invocationId)},"function_path":${JSON.stringify(functionPath)},"result":${resultText}}`
}

export function encodeResultError(invocationId: string, functionPath: string, error: WireError): string {
  return JSON.stringify({ type: 'invocationresult', invocation_id: invocationId, function_path: functionPath, error })
}
