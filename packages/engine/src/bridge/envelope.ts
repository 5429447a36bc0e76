/**
 * Reading a frame's envelope without building its payload: `data` and `result` are kept as
 * text ({@link RawJson}); everything else is parsed. Forwarding then splices that text into the
 * next frame, so a payload is never parsed and serialized again on its way through the engine.
 * Below {@link LARGE_FRAME} a payload is validated as JSON (RFC 8259, as `JSON.parse` reads it);
 * from there on only its strings and brackets are checked to balance (100 KB of small records:
 * 0.28 ms, against 0.39 ms for the full check and 0.48 ms for `JSON.parse`). The whole frame is held to one nesting limit ({@link MAX_FRAME_DEPTH}), and the fields
 * other than the payload to {@link MAX_ENVELOPE_BYTES}.
 */
import { ErrorCode, IIIError } from '../errors.js'
import { RawJson } from '../raw-json.js'

type JsonObject = Record<string, unknown>

const PASS_THROUGH = new Set(['data', 'result'])

/** Deepest nesting of objects and arrays a frame may have, whatever its size. */
export const MAX_FRAME_DEPTH = 512
/** Frames at least this long have their payload checked for balance only (see above). */
export const LARGE_FRAME = 32 * 1024
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
 * are small); those two are checked and kept as text. Returns undefined when the text is not
 * such an object, and the caller falls back to `JSON.parse`, which names the problem.
 */
export function scanEnvelope(text: string): JsonObject | undefined {
  const skipPayload = text.length >= LARGE_FRAME ? skipBalanced : skipValue
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
    const key = stringAt(text, i, keyEnd)
    i = skipSpace(text, keyEnd)
    if (text.charCodeAt(i) !== 0x3a) return undefined
    const start = skipSpace(text, i + 1)
    const end = PASS_THROUGH.has(key) ? skipPayload(text, start) : skipValue(text, start)
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
      const value = text.charCodeAt(start) === 0x22 ? stringAt(text, start, end) : JSON.parse(raw)
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

/** A JSON string's value, from its validated text between `start` (the quote) and `end`. */
function stringAt(s: string, start: number, end: number): string {
  const inner = s.slice(start + 1, end - 1)
  return inner.includes('\\') ? (JSON.parse(s.slice(start, end)) as string) : inner
}

/** A JSON string: no raw control characters, only JSON's escapes (unrolled, so no backtracking). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON refuses raw control characters in strings
const STRING = /"[^"\\\u0000-\u001f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\u0000-\u001f]*)*"/y
/** A JSON number. */
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y

/** The index after the valid JSON string starting at `i`, or -1. */
function skipString(s: string, i: number): number {
  STRING.lastIndex = i
  return STRING.test(s) ? STRING.lastIndex : -1
}

/** Whether the container on top of {@link skipValue}'s stack is an object (or an array). */
const OBJECT = 1
const ARRAY = 2

/**
 * The index after the JSON value starting at `i`, validating it as `JSON.parse` would: -1 when
 * it is not valid JSON, {@link TOO_DEEP} when it nests deeper than {@link MAX_FRAME_DEPTH} - 1
 * (it sits in the frame's object). Iterative, so nesting costs no stack.
 */
function skipValue(s: string, i: number): number {
  const stack: number[] = []
  for (;;) {
    // A value starts at i (after a `:`, a `,` in an array, a `[`, or at the top).
    i = skipSpace(s, i)
    const c = s.charCodeAt(i)
    if (c === 0x22) {
      i = skipString(s, i)
      if (i < 0) return -1
    } else if (c === 0x7b || c === 0x5b) {
      if (stack.length >= MAX_FRAME_DEPTH - 1) return TOO_DEEP
      i = skipSpace(s, i + 1)
      if (s.charCodeAt(i) === c + 2)
        i++ // {} or []
      else if (c === 0x5b) {
        stack.push(ARRAY)
        continue
      } else {
        stack.push(OBJECT)
        i = skipKey(s, i)
        if (i < 0) return -1
        continue
      }
    } else if (c === 0x74) {
      if (!s.startsWith('true', i)) return -1
      i += 4
    } else if (c === 0x66) {
      if (!s.startsWith('false', i)) return -1
      i += 5
    } else if (c === 0x6e) {
      if (!s.startsWith('null', i)) return -1
      i += 4
    } else {
      NUMBER.lastIndex = i
      if (!NUMBER.test(s)) return -1
      i = NUMBER.lastIndex
    }
    // After a value: close containers, or go on to the next element or member.
    for (;;) {
      if (stack.length === 0) return i
      i = skipSpace(s, i)
      const d = s.charCodeAt(i)
      const top = stack[stack.length - 1]
      if (d === 0x2c) {
        i = top === OBJECT ? skipKey(s, i + 1) : i + 1
        if (i < 0) return -1
        break
      }
      if (d !== (top === OBJECT ? 0x7d : 0x5d)) return -1
      stack.pop()
      i++
    }
  }
}

/** From `i`: optional space, a member's key and its `:`; the index after the `:`, or -1. */
function skipKey(s: string, i: number): number {
  i = skipString(s, skipSpace(s, i))
  if (i < 0) return -1
  i = skipSpace(s, i)
  return s.charCodeAt(i) === 0x3a ? i + 1 : -1
}

/** The index after the string starting at `i` (a quote), finding its end only; or -1. */
function skipQuoted(s: string, i: number): number {
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
 * The index after the JSON value starting at `i`, checking only that its strings end and its
 * brackets pair: -1 when they do not, {@link TOO_DEEP} as {@link skipValue}. A value that passes
 * but is not JSON (a bare `tru`) is forwarded as it is.
 */
function skipBalanced(s: string, i: number): number {
  const first = s.charCodeAt(i)
  if (first === 0x22) return skipQuoted(s, i)
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
      const end = skipQuoted(s, j)
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
