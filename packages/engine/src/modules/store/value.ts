/** Encoding of stored values, shared by every adapter so that they refuse exactly the same. */
import { IIIError } from '../../errors.js'
import type { JsonValue } from './types.js'

/** The JSON text of `value`; throws `payload_too_large` when it is over `maxBytes` in UTF-8. */
export function encodeValue(value: JsonValue, maxBytes: number): string {
  const text = JSON.stringify(value)
  if (text === undefined) throw new IIIError('invalid_argument', 'the value is not JSON')
  // A UTF-8 byte is at most 3 per UTF-16 unit, so short strings need no exact count.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8')
    if (bytes > maxBytes) {
      throw new IIIError('payload_too_large', `the value is ${bytes} bytes as JSON, over the limit of ${maxBytes}`, {
        bytes,
        max_value_bytes: maxBytes,
      })
    }
  }
  return text
}
