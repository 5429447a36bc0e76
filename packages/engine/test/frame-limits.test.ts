/**
 * Findings of the attack run on the frame decoder, through the real engine process: one depth
 * rule for every frame size (a coded error naming it, never internal_error), the cost of the
 * fields other than the payload bounded before they are built (a 15 MiB frame of nested
 * arrays in `metadata`), and one validation path whatever the size (`__proto__`).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { startEngine } from '@iii-dev/testkit'
import { RawClient } from './raw.ts'

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024

test('data nested 4100 levels: invalid_message naming the depth limit, in a small and in a large frame', async (t) => {
  const engine = await startEngine(t)
  const c = await RawClient.connect(t, engine.bridgeUrl)
  const small = `{"type":"invokefunction","invocation_id":"s1","function_path":"state.set","data":{"group_id":"x","item_id":"k","data":${nested(4100)}}}`
  assert.ok(small.length < 32 * 1024)
  const pad = 'p'.repeat(40 * 1024)
  const large = `{"type":"invokefunction","invocation_id":"l1","function_path":"state.set","data":{"group_id":"x","item_id":"k","pad":"${pad}","data":${nested(4100)}}}`
  for (const [id, text] of [
    ['s1', small],
    ['l1', large],
  ]) {
    const err = c.next((f) => f.type === 'error')
    c.send(text)
    const frame = await err
    assert.equal(frame.code, 'invalid_message', `${id}: ${JSON.stringify(frame)}`)
    assert.match(frame.message, /deeper than 512 levels/)
    c.frames.length = 0
  }
  // the small one names its call, so the caller fails at once
  const answer = c.next((f) => f.type === 'invocationresult' && f.invocation_id === 's2')
  c.send(small.replace('"s1"', '"s2"'))
  assert.equal((await answer).error.code, 'invalid_message')
  // 511 levels of data (512 with the frame) are fine, small and large
  const ok = await c.call('state.set', { group_id: 'x', item_id: 'k', data: JSON.parse(nested(510)) })
  assert.equal(ok.error, undefined, JSON.stringify(ok.error))
  const okLarge = await c.call('state.set', { group_id: 'x', item_id: 'k2', pad, data: JSON.parse(nested(509)) })
  assert.equal(okLarge.error, undefined, JSON.stringify(okLarge.error))
})

test('a 15 MiB frame of nested arrays in metadata is refused before it is built: no RSS jump, others served', async (t) => {
  const engine = await startEngine(t)
  const attacker = await RawClient.connect(t, engine.bridgeUrl)
  const victim = await RawClient.connect(t, engine.bridgeUrl)
  victim.register('v.echo', (d) => d)
  await victim.call('engine.functions.list', {})
  const before = rssMb(engine.proc.pid as number)
  const depth = (15 * 1024 * 1024) / 2
  const deep = `{"type":"registerfunction","function_path":"a.deep","metadata":{"x":${nested(depth)}}}`
  const wide = `{"type":"registerfunction","function_path":"a.wide","metadata":{"x":[${'[],'.repeat(5 * 1024 * 1024)}[]]}}`
  for (const [text, pattern] of [
    [deep, /deeper than 512 levels/],
    [wide, /other than data\/result take more than 1048576 bytes/],
  ] as const) {
    const err = attacker.next((f) => f.type === 'error', 10_000)
    const at = Date.now()
    attacker.send(text)
    const frame = await err
    assert.equal(frame.code, 'invalid_message')
    assert.match(frame.message, pattern)
    assert.ok(Date.now() - at < 2000, `refused in ${Date.now() - at} ms`)
    attacker.frames.length = 0
  }
  const grown = rssMb(engine.proc.pid as number) - before
  // the frames themselves (2 x 15 MiB of text, held by ws) are the floor; building them was +950 MiB
  assert.ok(grown < 200, `RSS grew ${grown.toFixed(0)} MB`)
  const caller = await RawClient.connect(t, engine.bridgeUrl)
  assert.deepEqual((await caller.call('v.echo', { fine: true })).result, { fine: true })
})

test('__proto__ as a top-level key is handled the same in a small and in a large frame', async (t) => {
  const engine = await startEngine(t)
  const c = await RawClient.connect(t, engine.bridgeUrl)
  const inner =
    '{"type":"invokefunction","invocation_id":"p1","function_path":"state.set","data":{"group_id":"x","item_id":"pp","data":1}}'
  const small = `{"__proto__":${inner}}`
  const large = `{"__proto__":${inner},"pad":"${'p'.repeat(40 * 1024)}"}`
  const answers: string[] = []
  for (const text of [small, large]) {
    const err = c.next((f) => f.type === 'error' || f.type === 'invocationresult')
    c.send(text)
    const frame = await err
    answers.push(`${frame.type}:${frame.code ?? frame.error?.code}:${frame.message ?? ''}`)
    c.frames.length = 0
  }
  assert.equal(answers[0], answers[1])
  assert.match(answers[0], /^error:invalid_message:a frame needs a string "type"/)
  const got = await c.call('state.get', { group_id: 'x', item_id: 'pp' })
  assert.equal(got.error, undefined)
  assert.equal(got.result ?? null, null, 'nothing was executed')
})
