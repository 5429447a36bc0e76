/**
 * The bridge protocol as the engine speaks it: the shared frames and validation of
 * `@iii-dev/protocol`, plus what only the engine needs: reading large frames without parsing
 * their payload, and building the frames it sends around payloads it does not re-serialize.
 */
import {
  decodeFrame as decodeJsonFrame,
  type Frame,
  type TriggerMeta,
  validateFrame,
  type WireError,
} from '@iii-dev/protocol'
import { scanEnvelope } from './envelope.js'
import { RawJson } from './raw-json.js'

export {
  encodeFrame,
  type Frame,
  type FrameType,
  frameRef,
  type InvokeFunctionFrame,
  type JsonObject,
  type TriggerMeta,
  validateFrame,
} from '@iii-dev/protocol'
export { RawJson }

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
