/**
 * Request bodies: content-type classification, a nesting-depth scan that runs before any
 * parser, and safe JSON parsing (no `__proto__` / `constructor.prototype` keys). No I/O here.
 */
import sjson from 'secure-json-parse'
import { HttpError } from './errors.js'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d

/**
 * True when the JSON text in `buf` nests objects/arrays deeper than `max`. A byte scan that
 * skips string contents; it does not validate the JSON (the parser does that afterwards).
 */
export function jsonDepthExceeds(buf: Uint8Array, max: number): boolean {
  // Nesting deeper than `max` needs more than `max` bytes of brackets.
  if (buf.length <= max) return false
  let depth = 0
  const n = buf.length
  for (let i = 0; i < n; i++) {
    const c = buf[i]
    if (c === QUOTE) {
      // Jump to the closing quote: the next quote not escaped by an odd run of backslashes.
      for (;;) {
        const q = indexOfByte(buf, QUOTE, i + 1)
        if (q === -1) return false // unterminated string: the parser reports it
        let b = q - 1
        while (buf[b] === BACKSLASH) b--
        i = q
        if ((q - 1 - b) % 2 === 0) break
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
    }
  }
  return false
}

function indexOfByte(buf: Uint8Array, byte: number, from: number): number {
  return Buffer.isBuffer(buf) ? buf.indexOf(byte, from) : Array.prototype.indexOf.call(buf, byte, from)
}

/**
 * Whether a request body is JSON: an absent content type, `application/json` or any
 * `+json` type (parameters such as `charset` are ignored).
 */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType === '') return true
  // Fast path for the usual spellings.
  if (contentType === 'application/json' || contentType.startsWith('application/json;')) return true
  const semi = contentType.indexOf(';')
  const essence = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
  return essence === 'application/json' || essence.endsWith('+json')
}

/**
 * Validates a JSON body and returns its text ready to be embedded in a larger JSON document
 * (byte-order mark removed). Throws an {@link HttpError} 400 for text that is not JSON, nests
 * deeper than `maxDepth`, or holds prototype-polluting keys.
 */
export function checkJsonBody(buf: Buffer, maxDepth: number): string {
  if (jsonDepthExceeds(buf, maxDepth)) {
    throw new HttpError(400, 'json_too_deep', `the JSON body nests deeper than ${maxDepth} levels`)
  }
  let text = buf.toString('utf8')
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  try {
    sjson.parse(text, null, { protoAction: 'error', constructorAction: 'error' })
  } catch (err) {
    if (err instanceof SyntaxError && err.message.startsWith('Object contains forbidden prototype property')) {
      throw new HttpError(400, 'forbidden_json_key', 'the JSON body holds a "__proto__" or "constructor.prototype" key')
    }
    throw new HttpError(400, 'invalid_json', 'the body is not valid JSON')
  }
  return text
}
