/** The bridge protocol, spoken as raw JSON over WebSockets to a real engine process. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { eventually, repoRoot, startEngine, startWorker } from '@iii-dev/testkit'
import { NO_ANSWER, RawClient, sleep } from './raw.ts'

const hanging = join(repoRoot, 'packages/engine/test/fixtures/hanging-worker.mjs')

describe('bridge protocol', () => {
  test('a worker gets workerregistered, registers a function, another worker calls it', async (t) => {
    const engine = await startEngine(t)
    const a = await RawClient.connect(t, engine.bridgeUrl)
    const b = await RawClient.connect(t, engine.bridgeUrl)
    assert.match(a.workerId, /^w-\d+$/)
    assert.notEqual(a.workerId, b.workerId)
    a.register('math.add', (d) => d.a + d.b)
    await eventually(async () =>
      (await b.call('engine.functions.list', {})).result.functions.some((f: any) => f.function_path === 'math.add'),
    )
    const answer = await b.call('math.add', { a: 2, b: 40 })
    assert.deepEqual(answer, {
      type: 'invocationresult',
      invocation_id: answer.invocation_id,
      function_path: 'math.add',
      result: 42,
    })
  })

  test('errors come back coded: function_not_found and invocation_failed with the message', async (t) => {
    const engine = await startEngine(t)
    const a = await RawClient.connect(t, engine.bridgeUrl)
    a.register('boom', () => {
      throw new Error('kaboom')
    })
    await sleep(50)
    const missing = await a.call('nope.nothing', {})
    assert.equal(missing.error.code, 'function_not_found')
    assert.match(missing.error.message, /nope\.nothing/)
    const failed = await a.call('boom', {})
    assert.deepEqual(failed.error, { code: 'invocation_failed', message: 'kaboom' })
  })

  test('fire-and-forget calls run and get no answer', async (t) => {
    const engine = await startEngine(t)
    const a = await RawClient.connect(t, engine.bridgeUrl)
    const b = await RawClient.connect(t, engine.bridgeUrl)
    const seen: unknown[] = []
    a.register('audit.write', (d) => {
      seen.push(d)
      return 'ok'
    })
    await sleep(50)
    b.send({ type: 'invokefunction', function_path: 'audit.write', data: { n: 1 } })
    b.send({ type: 'invokefunction', function_path: 'does.not.exist', data: {} })
    await eventually(() => seen.length === 1)
    await sleep(100)
    assert.deepEqual(seen, [{ n: 1 }])
    assert.equal(b.frames.filter((f) => f.type === 'invocationresult' || f.type === 'error').length, 0)
  })

  test('R10: two workers on one function share the calls; one leaving does not break the other', async (t) => {
    const engine = await startEngine(t)
    const a = await RawClient.connect(t, engine.bridgeUrl)
    const b = await RawClient.connect(t, engine.bridgeUrl)
    const caller = await RawClient.connect(t, engine.bridgeUrl)
    a.register('work', () => 'a')
    b.register('work', () => 'b')
    await sleep(50)
    const results = await Promise.all(Array.from({ length: 20 }, () => caller.call('work', {})))
    const counts = { a: 0, b: 0 } as Record<string, number>
    for (const r of results) counts[r.result]++
    assert.equal(counts.a, 10)
    assert.equal(counts.b, 10)
    const list = await caller.call('engine.functions.list', {})
    assert.equal(list.result.functions.find((f: any) => f.function_path === 'work').workers, 2)
    a.close()
    await a.closed
    await sleep(50)
    const after = await Promise.all(Array.from({ length: 6 }, () => caller.call('work', {})))
    assert.deepEqual(
      after.map((r) => r.result),
      ['b', 'b', 'b', 'b', 'b', 'b'],
    )
  })

  test('R1: a worker killed with SIGKILL mid-call fails its caller with invocation_stopped within 500 ms', async (t) => {
    const engine = await startEngine(t)
    const worker = startWorker(t, hanging, { III_BRIDGE_URL: engine.bridgeUrl })
    await worker.waitFor('ready')
    const caller = await RawClient.connect(t, engine.bridgeUrl)
    const answer = caller.call('slow.never', {})
    await sleep(100)
    const killedAt = Date.now()
    await worker.kill()
    const result = await answer
    const elapsed = Date.now() - killedAt
    assert.equal(result.error.code, 'invocation_stopped')
    assert.ok(elapsed < 500, `took ${elapsed} ms`)
    const workers = await caller.call('engine.workers.list', {})
    assert.equal(workers.result.workers.length, 1, 'only the caller is left')
    const fns = await caller.call('engine.functions.list', {})
    assert.ok(!fns.result.functions.some((f: any) => f.function_path === 'slow.never'))
  })

  test('R3: a handler that never answers times out at the timeout, the late result is dropped, nothing stays pending', async (t) => {
    const engine = await startEngine(t, { config: 'bridge:\n  invocation_timeout_ms: 400\n' })
    const slow = await RawClient.connect(t, engine.bridgeUrl)
    const held: any[] = []
    slow.register('slow', (_d, frame) => {
      held.push(frame)
      return NO_ANSWER
    })
    const caller = await RawClient.connect(t, engine.bridgeUrl)
    await sleep(50)
    const started = Date.now()
    const result = await caller.call('slow', {})
    const elapsed = Date.now() - started
    assert.equal(result.error.code, 'invocation_timeout')
    assert.ok(elapsed >= 360 && elapsed <= 520, `timed out after ${elapsed} ms, expected 400 ms +-10%`)
    // A per-call timeout_ms overrides the default.
    const short = Date.now()
    const quick = await caller.call('slow', {}, { timeout_ms: 100 })
    assert.equal(quick.error.code, 'invocation_timeout')
    assert.ok(Date.now() - short < 300)
    // The late answer goes nowhere.
    slow.send({ type: 'invocationresult', invocation_id: held[0].invocation_id, function_path: 'slow', result: 'late' })
    await sleep(100)
    assert.equal(caller.frames.filter((f) => f.result === 'late').length, 0)
    // 1000 calls that time out leave nothing behind.
    const many = await Promise.all(Array.from({ length: 1000 }, () => caller.call('slow', {}, { timeout_ms: 200 })))
    assert.ok(many.every((r) => r.error.code === 'invocation_timeout'))
    const workers = await caller.call('engine.workers.list', {})
    const served = workers.result.workers.find((w: any) => w.id === slow.workerId)
    assert.equal(served.active_invocations, 0)
  })

  test('R11: malformed, truncated, wrongly typed and unknown frames each get an error frame; the socket stays open', async (t) => {
    const engine = await startEngine(t)
    const vectors = JSON.parse(readFileSync(join(repoRoot, 'protocol/vectors.json'), 'utf8'))
    const bad = await RawClient.connect(t, engine.bridgeUrl)
    for (const v of vectors.invalid) {
      const reply = bad.next((f) => f.type === 'error')
      bad.send(v.raw)
      const err = await reply
      assert.equal(err.code, v.code, `${v.name}: ${err.message}`)
      assert.equal(typeof err.message, 'string')
      bad.frames.length = 0
    }
    // Still usable afterwards.
    const ok = await bad.call('engine.functions.list', {})
    assert.ok(Array.isArray(ok.result.functions))
  })

  test('R11: 10,000 bad frames over many sockets all get errors; other workers stay fast; a garbage-only socket is closed', async (t) => {
    const engine = await startEngine(t, { config: 'bridge:\n  max_bad_frames: 1000\n' })
    const good = await RawClient.connect(t, engine.bridgeUrl)
    good.register('echo', (d) => d)
    await sleep(50)
    const sockets = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(t, engine.bridgeUrl)))
    const garbage = ['{', '[]', '{"type":7}', '{"type":"nope"}', '{"type":"registerfunction"}', 'x'.repeat(100)]
    const echoes: Promise<unknown>[] = []
    for (let round = 0; round < 500; round++) {
      for (const s of sockets) s.send(garbage[round % garbage.length])
      if (round % 50 === 0) echoes.push(good.call('echo', round))
      // A valid frame now and then keeps each socket under the bad-frame limit.
      if (round % 400 === 399) for (const s of sockets) s.send({ type: 'ping' })
    }
    await eventually(() => sockets.every((s) => s.frames.filter((f) => f.type === 'error').length === 500), 15_000)
    assert.equal((await Promise.all(echoes)).length, 10)
    // A socket that sends nothing but garbage is closed with 1008 at the limit.
    const abuser = await RawClient.connect(t, engine.bridgeUrl)
    for (let i = 0; i < 1000; i++) abuser.send('garbage')
    const closed = await abuser.closed
    assert.equal(closed.code, 1008)
    assert.equal(abuser.frames.filter((f) => f.type === 'error').length, 1000)
    // The engine is still up and serving.
    assert.equal((await good.call('echo', 'still here')).result, 'still here')
  })

  test('a 1 MB payload and a 1 MB result pass through the engine unchanged', async (t) => {
    const engine = await startEngine(t)
    const a = await RawClient.connect(t, engine.bridgeUrl)
    const b = await RawClient.connect(t, engine.bridgeUrl)
    const payload = {
      text: 'quote " backslash \\ brackets ] } unicode ✓',
      items: Array.from({ length: 16_000 }, (_, i) => ({ id: i, name: `n${i}`, v: [i, null, true, { x: i / 3 - 7 }] })),
    }
    assert.ok(JSON.stringify(payload).length > 1_000_000)
    b.register('big.mirror', (d) => ({ got: d.items.length, back: d }))
    await sleep(50)
    const answer = await a.call('big.mirror', payload)
    assert.equal(answer.result.got, 16_000)
    // Compared as text: a failing deepEqual on 1 MB would spend minutes printing its diff.
    assert.ok(JSON.stringify(answer.result.back) === JSON.stringify(payload), 'the payload came back changed')
    // A large payload to a built-in function is parsed for it.
    const emitted = await a.call('emit', { topic: 'nobody', data: payload })
    assert.equal(emitted.result.duplicate, false)
  })

  test('R12: a frame over the cap closes the socket with 1009 at once', async (t) => {
    const engine = await startEngine(t, { config: 'bridge:\n  max_payload: 65536\n' })
    const c = await RawClient.connect(t, engine.bridgeUrl)
    c.send({ type: 'invokefunction', function_path: 'engine.functions.list', data: 'x'.repeat(70_000) })
    const closed = await c.closed
    assert.equal(closed.code, 1009)
    const other = await RawClient.connect(t, engine.bridgeUrl)
    assert.ok(Array.isArray((await other.call('engine.functions.list', {})).result.functions))
  })

  test('R2: a worker that stops answering pings is dropped and its functions go away', async (t) => {
    const engine = await startEngine(t, { config: 'bridge:\n  heartbeat_ms: 200\n' })
    const mute = await RawClient.connect(t, engine.bridgeUrl, { autoPong: false })
    mute.register('mute.fn', () => 1)
    const watcher = await RawClient.connect(t, engine.bridgeUrl)
    await sleep(50)
    const started = Date.now()
    await eventually(async () => {
      const fns = await watcher.call('engine.functions.list', {})
      return !fns.result.functions.some((f: any) => f.function_path === 'mute.fn')
    }, 3000)
    assert.ok(Date.now() - started < 1000)
    // The watcher answers pings (ws does by default) and is still connected.
    assert.equal((await watcher.call('engine.workers.list', {})).result.workers.length, 1)
  })

  test('JSON ping gets pong; frames meant for workers are refused', async (t) => {
    const engine = await startEngine(t)
    const c = await RawClient.connect(t, engine.bridgeUrl)
    c.send({ type: 'ping' })
    await c.next((f) => f.type === 'pong')
    c.send({ type: 'workerregistered', worker_id: 'x' })
    const err = await c.next((f) => f.type === 'error')
    assert.equal(err.code, 'invalid_message')
  })

  test('engine.* built-ins list functions, workers, triggers and record worker info', async (t) => {
    const engine = await startEngine(t)
    const c = await RawClient.connect(t, engine.bridgeUrl)
    const reg = await c.call('engine.workers.register', { runtime: 'node', version: '20', name: 'tester', os: 'linux' })
    assert.deepEqual(reg.result, { success: true })
    c.register('svc.a', () => 1)
    c.send({
      type: 'registertrigger',
      id: 'trig-1',
      trigger_type: 'event',
      function_path: 'svc.a',
      config: { topic: 't' },
    })
    await sleep(50)
    const workers = (await c.call('engine.workers.list', {})).result.workers
    assert.equal(workers.length, 1)
    assert.equal(workers[0].name, 'tester')
    assert.equal(workers[0].runtime, 'node')
    assert.deepEqual(workers[0].functions, ['svc.a'])
    assert.equal(typeof workers[0].connected_at_ms, 'number')
    const triggers = (await c.call('engine.triggers.list', {})).result.triggers
    assert.deepEqual(triggers, [
      { id: 'trig-1', trigger_type: 'event', function_path: 'svc.a', config: { topic: 't' } },
    ])
    const fns = (await c.call('engine.functions.list', {})).result.functions.map((f: any) => f.function_path)
    for (const name of [
      'engine.functions.list',
      'engine.workers.list',
      'engine.triggers.list',
      'emit',
      'logger.log',
      'svc.a',
    ]) {
      assert.ok(fns.includes(name), name)
    }
    const bad = await c.call('engine.workers.register', 'nope')
    assert.equal(bad.error.code, 'invalid_argument')
  })

  test('a worker cannot register a built-in function', async (t) => {
    const engine = await startEngine(t)
    const c = await RawClient.connect(t, engine.bridgeUrl)
    c.send({ type: 'registerfunction', function_path: 'emit' })
    const err = await c.next((f) => f.type === 'error')
    assert.equal(err.ref, 'emit')
    assert.match(err.message, /built-in/)
  })
})
