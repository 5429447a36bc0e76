/** Frame decoding against the shared vectors in protocol/vectors.json (loaded, not copied). */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { repoRoot } from '@iii-dev/testkit'
import { IIIError } from '../src/errors.ts'
import { decodeFrame, encodeFrame } from '../src/protocol.ts'

interface Vectors {
  valid: Array<{ name: string; frame: Record<string, unknown> }>
  invalid: Array<{ name: string; raw: string; code: string }>
}
const vectors: Vectors = JSON.parse(readFileSync(join(repoRoot, 'protocol/vectors.json'), 'utf8'))

describe('protocol vectors', () => {
  test('the vector file has both kinds', () => {
    assert.ok(vectors.valid.length >= 20)
    assert.ok(vectors.invalid.length >= 20)
  })

  for (const v of vectors.valid) {
    test(`valid: ${v.name}`, () => {
      const frame = decodeFrame(JSON.stringify(v.frame))
      assert.equal(frame.type, v.frame.type)
      assert.deepEqual(frame, v.frame)
      assert.deepEqual(JSON.parse(encodeFrame(frame)), v.frame)
    })
  }

  for (const v of vectors.invalid) {
    test(`invalid: ${v.name} -> ${v.code}`, () => {
      assert.throws(
        () => decodeFrame(v.raw),
        (err: unknown) => err instanceof IIIError && err.code === v.code && err.message.length > 0,
      )
    })
  }
})
