// The redis adapter's update runs the ops of ops.ts in Lua inside Redis. Besides the contract
// suite, this checks it against the engine's own applyOps (through the memory adapter) on
// thousands of random op lists: same results, same error messages, and no value changed in
// transit (number digits, empty arrays and objects, key order, unicode).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { hasRedis, type RedisServer, startRedis } from '@iii-dev/testkit'
import { IIIError } from '../src/errors.ts'
import { type JsonValue, MemoryAdapter, type UpdateOp } from '../src/modules/store/index.ts'
import { RedisAdapter } from '../src/modules/store/redis.ts'

const skip = hasRedis() ? false : 'redis-server is not installed'
const MAX = 1 << 16

/** A small deterministic PRNG, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const KEYS = ['a', 'b', 'stats', 'x.y', 'ü', '0', '1', '__proto__', 'tags', '"q"', '\u0001', '😀']
const NUMBERS = [0, 1, -1, 0.1, 0.2, 1.5e300, -2.5e-300, 12345678901234568, 2 ** 53, 1 / 3, 1e21, 123.456]

function value(r: () => number, depth = 0): JsonValue {
  const k = Math.floor(r() * (depth > 2 ? 5 : 8))
  switch (k) {
    case 0:
      return NUMBERS[Math.floor(r() * NUMBERS.length)]
    case 1:
      return ['', 'text', 'ünï "x" \\ /', '\n\t', '😀'][Math.floor(r() * 5)]
    case 2:
      return r() < 0.5
    case 3:
      return null
    case 4:
      return r() < 0.5 ? [] : {}
    case 5:
    case 6: {
      const o: Record<string, JsonValue> = {}
      for (let i = Math.floor(r() * 4); i > 0; i--) {
        // defineProperty: a "__proto__" key must be data, as JSON.parse makes it.
        Object.defineProperty(o, KEYS[Math.floor(r() * KEYS.length)], {
          value: value(r, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        })
      }
      return o
    }
    default:
      return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1))
  }
}

function path(r: () => number): string[] {
  return Array.from({ length: Math.floor(r() * 3) }, () =>
    r() < 0.3 ? String(Math.floor(r() * 3)) : KEYS[Math.floor(r() * (KEYS.length - 5))],
  )
}

function op(r: () => number): UpdateOp {
  const p = path(r)
  switch (Math.floor(r() * 5)) {
    case 0:
      return { type: 'set', path: p, value: value(r) }
    case 1: {
      const v = value(r)
      return { type: 'merge', path: p, value: typeof v === 'object' && v !== null && !Array.isArray(v) ? v : { m: v } }
    }
    case 2:
      return { type: 'increment', path: p, by: NUMBERS[Math.floor(r() * NUMBERS.length)] }
    case 3:
      return { type: 'decrement', path: p, by: NUMBERS[Math.floor(r() * NUMBERS.length)] }
    default:
      return { type: 'remove', path: p.length === 0 ? ['a'] : p }
  }
}

const outcome = async (fn: () => Promise<unknown>) => {
  try {
    // As JSON, which is what crosses the wire (the memory adapter hands out live objects).
    return { ok: JSON.parse(JSON.stringify(await fn())) }
  } catch (err) {
    assert.ok(err instanceof IIIError, String(err))
    return { code: err.code, message: err.message }
  }
}

describe('redis adapter update', { skip }, () => {
  let redis: RedisServer
  let kv: RedisAdapter
  before(async () => {
    redis = await startRedis(null)
    kv = new RedisAdapter({ url: redis.url, namespace: 'state', maxValueBytes: MAX })
  })
  after(async () => {
    await kv?.close()
    await redis?.stop()
  })

  test('2000 random op lists give what applyOps gives, errors included', async () => {
    const mem = new MemoryAdapter({ maxValueBytes: MAX })
    const r = rng(42)
    for (let i = 0; i < 2000; i++) {
      const item = `i${i % 50}`
      const ops = Array.from({ length: 1 + Math.floor(r() * 4) }, () => op(r))
      const want = await outcome(() => mem.update('s', 'g', item, ops))
      const got = await outcome(() => kv.update('s', 'g', item, ops))
      assert.deepEqual(got, want, `case ${i}: ${JSON.stringify(ops)}`)
      assert.deepEqual(await kv.get('s', 'g', item), await mem.get('s', 'g', item), `case ${i} stored`)
    }
  })

  test('untouched parts keep their exact text: digits, empty containers, key order', async () => {
    const start = { z: 1, a: [], m: {}, big: 12345678901234568, tiny: 5e-324, f: 0.30000000000000004, s: 'é' }
    await kv.set('s', 'fidelity', 'x', start)
    const r = await kv.update('s', 'fidelity', 'x', [
      { type: 'increment', path: 'n', by: 0.1 },
      { type: 'increment', path: 'n', by: 0.2 },
      { type: 'set', path: 'b', value: [] },
    ])
    assert.deepEqual(r.new_value, { ...start, n: 0.30000000000000004, b: [] })
    assert.deepEqual(Object.keys(r.new_value as object), ['z', 'a', 'm', 'big', 'tiny', 'f', 's', 'n', 'b'])
    assert.deepEqual(await kv.get('s', 'fidelity', 'x'), r.new_value)
  })

  test('a value grown over the limit by update is refused, with its size', async () => {
    await kv.set('s', 'big', 'x', { t: '' })
    const err = await outcome(() => kv.update('s', 'big', 'x', [{ type: 'set', path: 't', value: 'y'.repeat(MAX) }]))
    assert.equal(err.code, 'payload_too_large')
    assert.match(String(err.message), new RegExp(`over the limit of ${MAX}`))
    assert.deepEqual(await kv.get('s', 'big', 'x'), { t: '' })
  })

  test('a Redis that went away fails calls with store_unavailable, and they work once it is back', async () => {
    await kv.set('s', 'g', 'alive', 1)
    await redis.kill()
    const started = Date.now()
    const err = await outcome(() => kv.get('s', 'g', 'alive'))
    assert.equal(err.code, 'store_unavailable')
    assert.ok(Date.now() - started < 3500)
    await redis.restart()
    // No AOF here: the data is gone, but the adapter works again.
    for (let i = 0; ; i++) {
      const r = await outcome(() => kv.set('s', 'g', 'alive', 2))
      if ('ok' in r) break
      assert.ok(i < 100, 'the adapter came back')
      await new Promise((res) => setTimeout(res, 50))
    }
    assert.equal(await kv.get('s', 'g', 'alive'), 2)
  })
})
