/** The pure protocol module: the shared vectors, and large frames read without parsing their payload. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { repoRoot } from '@iii-dev/testkit'
import { scanEnvelope } from '../src/bridge/envelope.ts'
import { decodeFrame, encodeInvoke, encodeResult, LARGE_FRAME } from '../src/bridge/frames.ts'
import { RawJson } from '../src/protocol.ts'

const vectors = JSON.parse(readFileSync(join(repoRoot, 'protocol/vectors.json'), 'utf8'))

/** A payload whose JSON text is over the large-frame size, with awkward strings in it. */
const big = {
  note: 'quotes " and \\ backslashes \\" and brackets ] } [ { inside strings, unicode é ✓',
  items: Array.from({ length: 800 }, (_, i) => ({ id: i, name: `item-${i}`, nested: [[{ deep: [i, null, true] }]] })),
}

function plain(value: unknown): unknown {
  return value instanceof RawJson ? value.parse() : value
}

describe('protocol', () => {
  test('every valid vector decodes to its type with its fields, small and padded past the large-frame size', () => {
    for (const v of vectors.valid) {
      const small = decodeFrame(JSON.stringify(v.frame))
      assert.deepEqual(small, v.frame, v.name)
      const padded = { ...v.frame, padding: 'x'.repeat(LARGE_FRAME) }
      const large = decodeFrame(JSON.stringify(padded)) as Record<string, unknown>
      for (const key of Object.keys(v.frame)) assert.deepEqual(plain(large[key]), v.frame[key], `${v.name}: ${key}`)
    }
  })

  test('every invalid vector is refused with its code', () => {
    for (const v of vectors.invalid) {
      assert.throws(
        () => decodeFrame(v.raw),
        (err: any) => err.code === v.code,
        v.name,
      )
    }
  })

  test('a large frame keeps data and result as their exact JSON text', () => {
    const text = JSON.stringify({ type: 'invokefunction', invocation_id: '9', function_path: 'a.b', data: big })
    assert.ok(text.length > LARGE_FRAME)
    const frame = decodeFrame(text) as any
    assert.ok(frame.data instanceof RawJson)
    assert.equal(frame.data.text, JSON.stringify(big))
    assert.equal(frame.invocation_id, '9')
    const result = decodeFrame(
      `{ "type" : "invocationresult" , "result" : ${JSON.stringify(big, null, 1)} , "invocation_id":"9","function_path":"a.b"}`,
    ) as any
    assert.deepEqual(result.result.parse(), big)
    // Forwarding splices the text in unchanged.
    assert.deepEqual(JSON.parse(encodeInvoke('1', 'a.b', frame.data, undefined, undefined, undefined)).data, big)
    assert.deepEqual(JSON.parse(encodeResult('1', 'a.b', result.result)).result, big)
  })

  test('large frames that are not well-formed are refused as invalid_message', () => {
    const body = JSON.stringify(big)
    const broken = [
      `{"type":"invokefunction","function_path":"a","data":${body.slice(0, -1)}}`, // a bracket short
      `{"type":"invokefunction","function_path":"a","data":${body}]}`, // a bracket too many
      `{"type":"invokefunction","function_path":"a","data":${body.replace('"nested":[[', '"nested":[{')}}`, // mismatched pair
      `{"type":"invokefunction","function_path":"a","data":"${'x'.repeat(LARGE_FRAME)}}`, // unterminated string
      `{"type":"invokefunction","function_path":"a","data":${body}} trailing`,
      `{"type":"invokefunction","function_path":a,"data":${body}}`, // a bare word in the envelope
      `[${body}]`,
    ]
    for (const text of broken) {
      assert.ok(text.length > LARGE_FRAME)
      assert.ok(scanEnvelope(text) === undefined, text.slice(0, 80))
      assert.throws(
        () => decodeFrame(text),
        (err: any) => err.code === 'invalid_message',
      )
    }
  })
})
