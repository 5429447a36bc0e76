/**
 * The bridge protocol: frame types, decoding with validation, encoding. No sockets here. Names
 * and fields match `docs/protocol.md` and the Python SDK's models.
 */
import { ErrorCode, IIIError, type WireError } from './errors.js'

export type JsonObject = Record<string, unknown>

/** What a trigger-caused call carries about the trigger that caused it. */
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

export interface RegisterFunctionFrame {
  type: 'registerfunction'
  function_path: string
  description?: string
  request_format?: unknown
  response_format?: unknown
  metadata?: JsonObject
}
export interface UnregisterFunctionFrame {
  type: 'unregisterfunction'
  function_path: string
}
export interface RegisterTriggerFrame {
  type: 'registertrigger'
  id: string
  trigger_type: string
  function_path: string
  config: JsonObject
}
export interface UnregisterTriggerFrame {
  type: 'unregistertrigger'
  id: string
  trigger_type?: string
}
export interface RegisterConditionFrame {
  type: 'registercondition'
  function_path: string
  condition_function_path: string
}
export interface UnregisterConditionFrame {
  type: 'unregistercondition'
  function_path: string
  condition_function_path: string
}
export interface RegisterTriggerTypeFrame {
  type: 'registertriggertype'
  id: string
  description?: string
}
export interface UnregisterTriggerTypeFrame {
  type: 'unregistertriggertype'
  id: string
}
export interface TriggerRegistrationResultFrame {
  type: 'triggerregistrationresult'
  id: string
  trigger_type: string
  function_path: string
  error?: WireError
}
export interface RegisterServiceFrame {
  type: 'registerservice'
  id: string
  name?: string
  description?: string
  parent_service_id?: string | null
}
export interface InvokeFunctionFrame {
  type: 'invokefunction'
  invocation_id?: string
  function_path: string
  data: unknown
  trigger?: TriggerMeta
  traceparent?: string
  baggage?: string
  timeout_ms?: number
}
export interface InvocationResultFrame {
  type: 'invocationresult'
  invocation_id: string
  function_path: string
  result?: unknown
  error?: WireError
  traceparent?: string
  baggage?: string
}
export interface WorkerRegisteredFrame {
  type: 'workerregistered'
  worker_id: string
}
export interface PingFrame {
  type: 'ping'
}
export interface PongFrame {
  type: 'pong'
}
export interface ErrorFrame {
  type: 'error'
  code: string
  message: string
  ref?: string
  details?: unknown
}

/** Every frame of the protocol, in either direction. */
export type Frame =
  | RegisterFunctionFrame
  | UnregisterFunctionFrame
  | RegisterTriggerFrame
  | UnregisterTriggerFrame
  | RegisterConditionFrame
  | UnregisterConditionFrame
  | RegisterTriggerTypeFrame
  | UnregisterTriggerTypeFrame
  | TriggerRegistrationResultFrame
  | RegisterServiceFrame
  | InvokeFunctionFrame
  | InvocationResultFrame
  | WorkerRegisteredFrame
  | PingFrame
  | PongFrame
  | ErrorFrame

export type FrameType = Frame['type']

type FieldKind = 'string' | 'object' | 'number' | 'error' | 'any' | 'string?null'
interface FrameSpec {
  required: Record<string, FieldKind>
  optional: Record<string, FieldKind>
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

/** True when `type` names a frame of the protocol. */
export function isFrameType(type: string): type is FrameType {
  return Object.hasOwn(frameSpecs, type)
}

function invalid(message: string): IIIError {
  return new IIIError(ErrorCode.InvalidMessage, message)
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
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw invalid(`${frame.type}.${name} must be an object`)
      return
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
        throw invalid(`${frame.type}.${name} must be a positive number`)
      return
    case 'error': {
      const err = value as JsonObject
      if (typeof err !== 'object' || err === null || typeof err.code !== 'string' || typeof err.message !== 'string')
        throw invalid(`${frame.type}.${name} must be an object with string "code" and "message"`)
      return
    }
    case 'any':
      return
  }
}

/** Validates an already-parsed value as a frame; throws an {@link IIIError} naming the problem. */
export function validateFrame(value: unknown): Frame {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('a frame must be a JSON object')
  }
  const frame = value as JsonObject
  const type = frame.type
  if (typeof type !== 'string') throw invalid('a frame needs a string "type"')
  if (!isFrameType(type)) {
    throw new IIIError(ErrorCode.UnknownMessageType, `unknown frame type "${type.slice(0, 64)}"`)
  }
  const spec = frameSpecs[type]
  for (const name in spec.required) checkField(frame, name, spec.required[name], true)
  for (const name in spec.optional) checkField(frame, name, spec.optional[name], false)
  return frame as unknown as Frame
}

/**
 * Parses and validates one text frame. Throws an {@link IIIError} with `invalid_message` or
 * `unknown_message_type`, the same codes the engine answers with.
 */
export function decodeFrame(text: string): Frame {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw invalid(`frame is not valid JSON: ${(err as Error).message}`)
  }
  return validateFrame(value)
}

/**
 * Encodes a frame as JSON text. Fields that are `undefined` are left out; throws (a
 * `TypeError` from `JSON.stringify`) when the frame holds something JSON cannot carry.
 */
export function encodeFrame(frame: Frame): string {
  return JSON.stringify(frame)
}

/** Names a frame in error replies: its invocation id, id, function path, or type. */
export function frameRef(frame: unknown): string | undefined {
  if (typeof frame !== 'object' || frame === null) return undefined
  const f = frame as JsonObject
  for (const key of ['invocation_id', 'id', 'function_path', 'type']) {
    if (typeof f[key] === 'string') return f[key] as string
  }
  return undefined
}

/** The text of an `error` frame. */
export function errorFrame(err: WireError, ref?: string): string {
  const frame: ErrorFrame = { type: 'error', code: err.code, message: err.message }
  if (ref !== undefined) frame.ref = ref
  if (err.details !== undefined) frame.details = err.details
  return JSON.stringify(frame)
}
