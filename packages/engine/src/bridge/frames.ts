/**
 * The frames the bridge reads and writes. Decoding reads a frame without parsing its
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
import { MAX_FRAME_DEPTH, scanEnvelope, tooDeep } from './envelope.js'

export { frameRef } from '@iii-dev/protocol'
export { LARGE_FRAME } from './envelope.js'

/**
 * Parses and validates one text frame. Throws an {@link IIIError} naming the problem.
 * `data` / `result` stay JSON text ({@link RawJson}): the engine forwards a payload without
 * parsing it, and a function inside the engine gets it parsed.
 */
export function decodeFrame(text: string): Frame {
  const envelope = scanEnvelope(text)
  if (envelope !== undefined) return validateFrame(envelope)
  // Not a valid JSON object: the parser names the problem, after the depth rule (so a deeply
  // nested array cannot exhaust its stack).
  if (depthExceeds(text, MAX_FRAME_DEPTH)) throw tooDeep()
  return decodeJsonFrame(text)
}

/**
 * True when the JSON text nests objects/arrays deeper than `max` (the frame's own object
 * counts). A scan that skips string contents; it does not validate (the parser does).
 */
function depthExceeds(s: string, max: number): boolean {
  if (s.length <= max) return false // deeper nesting needs more brackets than that
  let depth = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22) {
      for (;;) {
        const q = s.indexOf('"', i + 1)
        if (q < 0) return false
        let b = q - 1
        while (s.charCodeAt(b) === 0x5c) b--
        i = q
        if ((q - 1 - b) % 2 === 0) break
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return false
}

/**
 * Binary frames the original SDK's telemetry exporters send on the bridge socket: a 4-byte
 * signal prefix (`OTLP` spans, `MTRC` metrics, `LOGS` logs) and a protobuf body. The bridge
 * drops them without an answer and without counting them as bad frames.
 */
const TELEMETRY_PREFIXES = ['OTLP', 'MTRC', 'LOGS'].map((p) => Buffer.from(p, 'latin1').readUInt32BE(0))

/** True when a binary frame is one of the original SDK's telemetry frames. */
export function isTelemetryFrame(data: Buffer): boolean {
  return data.length >= 4 && TELEMETRY_PREFIXES.includes(data.readUInt32BE(0))
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

/**
 * The text of an `invocationresult` frame. A null (or absent) result is left out, as the
 * original engine did: its JS callers read a missing state item as `undefined`, and both our
 * SDKs read a missing `result` as null.
 */
export function encodeResult(invocationId: string, functionPath: string, result: unknown): string {
  const head = `{"type":"invocationresult","invocation_id":${JSON.stringify(invocationId)},"function_path":${JSON.stringify(functionPath)}`
  const resultText = result instanceof RawJson ? result.text : JSON.stringify(result)
  if (resultText === undefined || resultText === 'null') return `${head}}`
  return `${head},"result":${resultText}}`
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
