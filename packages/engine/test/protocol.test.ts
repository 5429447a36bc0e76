/** The pure protocol module: the shared vectors, and frames read without parsing their payload. */
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
      const small = decodeFrame(JSON.stringify(v.frame)) as Record<string, unknown>
      assert.deepEqual(Object.keys(small).sort(), Object.keys(v.frame).sort(), v.name)
      for (const key of Object.keys(v.frame)) assert.deepEqual(plain(small[key]), v.frame[key], `${v.name}: ${key}`)
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

  test('a small frame keeps its payload as its exact text, and one that is not JSON is refused', () => {
    const data = ' { "a" : [1, -2.5e+3, true, false, null, "\\u00e9 \\" é"], "b": {} } '
    const frame = decodeFrame(
      `{"type":"invokefunction","invocation_id":"1","function_path":"a.b","data":${data}}`,
    ) as any
    assert.ok(frame.data instanceof RawJson)
    assert.equal(frame.data.text, data.trim())
    assert.deepEqual(frame.data.parse(), JSON.parse(data))
    const bad = [
      'tru',
      'nul',
      '[1,,2]',
      '[1 2]',
      '{"a":1,}',
      '{"a" 1}',
      '{1:2}',
      '01',
      '1.',
      '-',
      '.5',
      '+1',
      '"\\x"',
      '"\u0001"',
      '"\\u12"',
      "'a'",
      '[1]]',
      'NaN',
    ]
    for (const payload of bad) {
      const text = `{"type":"invokefunction","function_path":"a","data":${payload}}`
      assert.throws(
        () => decodeFrame(text),
        (err: any) => err.code === 'invalid_message',
        text,
      )
    }
    // The same payloads inside a result, and one nested past the depth limit.
    for (const payload of bad) {
      assert.throws(() =>
        decodeFrame(`{"type":"invocationresult","invocation_id":"1","function_path":"a","result":${payload}}`),
      )
    }
    const deep = `${'['.repeat(600)}${']'.repeat(600)}`
    assert.throws(
      () => decodeFrame(`{"type":"invokefunction","function_path":"a","data":${deep}}`),
      (err: any) => err.code === 'invalid_message' && /deeper than/.test(err.message),
    )
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
