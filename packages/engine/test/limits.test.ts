/**
 * Per-connection limits (docs/security.md), through a real engine process: calls in flight per
 * worker, registrations per worker, and the HTTP server's concurrency limit.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { NO_ANSWER, RawClient, sleep } from './raw.ts'

const config = `
bridge:
  limits:
    max_in_flight: 3
    max_registrations: 4
modules:
  api:
    max_concurrent_requests: 2
`

describe('limits per connection', () => {
  test('calls in flight past max_in_flight get too_many_requests at once; answered ones free a slot', async (t) => {
    const engine = await startEngine(t, { config })
    const server = await RawClient.connect(t, engine.bridgeUrl)
    const caller = await RawClient.connect(t, engine.bridgeUrl)
    const other = await RawClient.connect(t, engine.bridgeUrl)
    const held: Array<(v: unknown) => void> = []
    server.register('slow', () => new Promise((resolve) => held.push(resolve)))
    await sleep(50)
    const first = [caller.call('slow', 1), caller.call('slow', 2), caller.call('slow', 3)]
    await eventually(() => held.length === 3)
    const started = Date.now()
    const refused = await caller.call('slow', 4)
    assert.ok(Date.now() - started < 1000)
    assert.equal(refused.error.code, 'too_many_requests')
    assert.match(refused.error.message, /at most 3 calls in flight \(bridge\.limits\.max_in_flight\)/)
    // The limit is per worker: another worker's calls go through meanwhile.
    const fromOther = other.call('slow', 5)
    await eventually(() => held.length === 4)
    held.shift()?.('done')
    assert.equal((await first[0]).result, 'done')
    const again = caller.call('slow', 6)
    await eventually(() => held.length === 4)
    for (const release of held.splice(0)) release('ok')
    assert.equal((await again).result, 'ok')
    assert.equal((await fromOther).result, 'ok')
    await Promise.all(first)
  })

  test('registrations past max_registrations get too_many_requests; re-registering does not count', async (t) => {
    const engine = await startEngine(t, { config })
    const w = await RawClient.connect(t, engine.bridgeUrl)
    w.register('a', () => 1)
    w.register('a', () => 1)
    w.register('b', () => 1)
    w.send({ type: 'registertriggertype', id: 'mine' })
    w.send({ type: 'registercondition', function_path: 'a', condition_function_path: 'b' })
    w.register('c', () => 1)
    w.send({ type: 'registertrigger', id: 't1', trigger_type: 'event', function_path: 'a', config: { topic: 'x' } })
    const errors = () => w.frames.filter((f) => f.type === 'error')
    await eventually(() => errors().length === 2)
    for (const e of errors()) {
      assert.equal(e.code, 'too_many_requests')
      assert.match(e.message, /at most 4 registrations \(bridge\.limits\.max_registrations\)/)
    }
    const fns = (await w.call('engine.functions.list', {})).result.functions.map((f: any) => f.function_path)
    assert.ok(fns.includes('a') && fns.includes('b') && !fns.includes('c'))
    // Freeing one makes room again.
    w.send({ type: 'unregisterfunction', function_path: 'b' })
    w.register('c', () => 1)
    await eventually(async () =>
      (await w.call('engine.functions.list', {})).result.functions.some((f: any) => f.function_path === 'c'),
    )
    assert.equal(errors().length, 2)
  })

  test('HTTP requests past max_concurrent_requests get 503 with retry-after; others are served after', async (t) => {
    const engine = await startEngine(t, { config })
    const w = await RawClient.connect(t, engine.bridgeUrl)
    const held: Array<(v: unknown) => void> = []
    w.register('api.slow', () => new Promise((resolve) => held.push(resolve)))
    w.register('api.fast', () => NO_ANSWER)
    w.send({
      type: 'registertrigger',
      id: 'slow',
      trigger_type: 'api',
      function_path: 'api.slow',
      config: { api_path: '/slow', http_method: 'GET' },
    })
    await eventually(async () => (await fetch(`${engine.apiUrl}/slow`, { method: 'OPTIONS' })).status === 204)
    const first = [fetch(`${engine.apiUrl}/slow`), fetch(`${engine.apiUrl}/slow`)]
    await eventually(() => held.length === 2)
    const over = await fetch(`${engine.apiUrl}/slow`)
    assert.equal(over.status, 503)
    assert.equal(over.headers.get('retry-after'), '1')
    const body = (await over.json()) as { error: string; message: string }
    assert.equal(body.error, 'too_many_requests')
    assert.match(body.message, /modules\.api\.max_concurrent_requests/)
    for (const release of held.splice(0)) release({ status_code: 200, body: { ok: true } })
    for (const res of await Promise.all(first)) assert.equal(res.status, 200)
    const after = fetch(`${engine.apiUrl}/slow`)
    await eventually(() => held.length === 1)
    held[0]({ status_code: 200, body: { ok: true } })
    assert.equal((await after).status, 200)
  })
})
