/**
 * Reading a large frame's envelope without parsing its payload: `data` and `result` are kept
 * as JSON text ({@link RawJson}) after a structural check, everything else is parsed. Before
 * anything is built, the whole frame is held to the same nesting limit as a small frame
 * ({@link MAX_FRAME_DEPTH}), and the fields other than the payload to {@link MAX_ENVELOPE_BYTES}.
 */
import { ErrorCode, IIIError } from '../errors.js'
import { RawJson } from '../raw-json.js'

type JsonObject = Record<string, unknown>

const PASS_THROUGH = new Set(['data', 'result'])

/** Deepest nesting of objects and arrays a frame may have, whatever its size. */
export const MAX_FRAME_DEPTH = 512
/** Most text the fields other than `data` / `result` of one frame may take together. */
export const MAX_ENVELOPE_BYTES = 1024 * 1024

/** The coded error of a frame nested deeper than {@link MAX_FRAME_DEPTH}. */
export function tooDeep(): IIIError {
  return new IIIError(ErrorCode.InvalidMessage, `the frame nests objects/arrays deeper than ${MAX_FRAME_DEPTH} levels`)
}

/** Marks a value that nests deeper than the limit (see {@link skipValue}). */
const TOO_DEEP = -2

/**
 * Reads the top-level object of a frame: every field but `data` and `result` is parsed (they
 * are small); those two are only checked for balanced strings and brackets and kept as text.
 * Returns undefined when the text is not such an object, and the caller falls back to
 * `JSON.parse`, which reports the problem.
 */
export function scanEnvelope(text: string): JsonObject | undefined {
  const out: JsonObject = {}
  let envelope = 0
  let i = skipSpace(text, 0)
  if (text.charCodeAt(i) !== 0x7b) return undefined
  i = skipSpace(text, i + 1)
  if (text.charCodeAt(i) === 0x7d) return skipSpace(text, i + 1) === text.length ? out : undefined
  for (;;) {
    if (text.charCodeAt(i) !== 0x22) return undefined
    const keyEnd = skipString(text, i)
    if (keyEnd < 0) return undefined
    const key = JSON.parse(text.slice(i, keyEnd)) as string
    i = skipSpace(text, keyEnd)
    if (text.charCodeAt(i) !== 0x3a) return undefined
    const start = skipSpace(text, i + 1)
    const end = skipValue(text, start)
    if (end === TOO_DEEP) throw tooDeep()
    if (end < 0) return undefined
    const raw = text.slice(start, end)
    if (PASS_THROUGH.has(key)) out[key] = new RawJson(raw)
    else {
      envelope += raw.length
      if (envelope > MAX_ENVELOPE_BYTES) {
        throw new IIIError(
          'invalid_message',
          `the frame's fields other than data/result take more than ${MAX_ENVELOPE_BYTES} bytes`,
        )
      }
      let value: unknown
      try {
        value = JSON.parse(raw)
      } catch {
        return undefined
      }
      // An own property, as JSON.parse makes it for a small frame: never the object's prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true })
      else out[key] = value
    }
    i = skipSpace(text, end)
    const c = text.charCodeAt(i)
    if (c === 0x2c) i = skipSpace(text, i + 1)
    else if (c === 0x7d) return skipSpace(text, i + 1) === text.length ? out : undefined
    else return undefined
  }
}

function skipSpace(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i
    i++
  }
}

/** The index after the string starting at `i` (a quote), or -1. */
function skipString(s: string, i: number): number {
  let j = i + 1
  for (;;) {
    const q = s.indexOf('"', j)
    if (q < 0) return -1
    let b = q - 1
    while (s.charCodeAt(b) === 0x5c) b--
    if ((q - 1 - b) % 2 === 0) return q + 1
    j = q + 1
  }
}

/**
 * The index after the JSON value starting at `i`, checking strings and bracket pairs; -1 when
 * it is not balanced, {@link TOO_DEEP} when it nests deeper than {@link MAX_FRAME_DEPTH} - 1
 * (it sits in the frame's object).
 */
function skipValue(s: string, i: number): number {
  const first = s.charCodeAt(i)
  if (first === 0x22) return skipString(s, i)
  if (first !== 0x7b && first !== 0x5b) {
    // A number or a literal: up to the next delimiter.
    let j = i
    for (;;) {
      const c = s.charCodeAt(j)
      if (
        c === 0x2c ||
        c === 0x7d ||
        c === 0x5d ||
        c === 0x20 ||
        c === 0x0a ||
        c === 0x0d ||
        c === 0x09 ||
        j >= s.length
      )
        break
      j++
    }
    return j > i ? j : -1
  }
  const stack: number[] = []
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j)
    if (c === 0x22) {
      const end = skipString(s, j)
      if (end < 0) return -1
      j = end - 1
    } else if (c === 0x7b || c === 0x5b) {
      stack.push(c + 2) // the matching close: { 0x7b -> } 0x7d, [ 0x5b -> ] 0x5d
      if (stack.length >= MAX_FRAME_DEPTH) return TOO_DEEP
    } else if (c === 0x7d || c === 0x5d) {
      if (stack.pop() !== c) return -1
      if (stack.length === 0) return j + 1
    }
  }
  return -1
}
