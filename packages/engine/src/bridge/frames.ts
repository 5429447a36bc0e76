/**
 * The frames the bridge reads and writes. Decoding reads a large frame without parsing its
 * payload; the encoders build engine -> worker frames around payloads they do not
 * re-serialize. Only `connection.ts` calls the encoders: it is the one place where the engine
 * turns values into text for a worker.
 */
import {
  decodeFrame as decodeJsonFrame,
  errorFrame,
  type Frame,
  type TriggerMeta,
  validateFrame,
  type WireError,
} from '@iii-dev/protocol'
import type { ForwardedTrigger } from '../core/link.js'
import { RawJson } from '../raw-json.js'
import { scanEnvelope } from './envelope.js'

export { frameRef } from '@iii-dev/protocol'

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
  return decodeJsonFrame(text)
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

/** The first frame a worker gets: its id. */
export function encodeWorkerRegistered(workerId: string): string {
  return JSON.stringify({ type: 'workerregistered', worker_id: workerId })
}

/** A trigger forwarded to the worker that owns its type. */
export function encodeRegisterTrigger(t: ForwardedTrigger): string {
  const { id, trigger_type, function_path, config } = t
  return JSON.stringify({ type: 'registertrigger', id, trigger_type, function_path, config })
}

export function encodeUnregisterTrigger(id: string, triggerType: string): string {
  return JSON.stringify({ type: 'unregistertrigger', id, trigger_type: triggerType })
}

/** The answer to a worker's `ping` frame. */
export const PONG = '{"type":"pong"}'

/** An `error` frame about something the worker sent or registered. */
export function encodeError(error: WireError, ref: string | undefined): string {
  return errorFrame(error, ref)
}
