/**
 * The error half of the contract shared with the Python SDK: every code protocol/errors.json
 * (read at test time) says an SDK raises is what this SDK raises in that situation, each
 * provoked over a real socket (a bare WebSocket server standing in for the engine). The Python
 * twin is python/iii/tests/test_contract_errors.py.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { repoRoot } from '@iii-dev/testkit'
import { NonRetryableError } from '../src/index.ts'
import { coded, freePort, makeBridge, sleep } from './helpers.ts'
import { startPeer } from './peer.ts'

interface CatalogueEntry {
  code: string
  http_status: number | null
  retryable: boolean
  raised_by: string[]
  when: string
}

const catalogue: CatalogueEntry[] = JSON.parse(readFileSync(join(repoRoot, 'protocol/errors.json'), 'utf8')).errors

/** How to make the SDK raise each code errors.json says an SDK raises. */
const scenarios: Record<string, (t: { after(fn: () => unknown): void }) => Promise<void>> = {
  async invocation_failed(t) {
    const p = await startPeer(t)
    const bridge = makeBridge(t, p.url)
    bridge.registerFunction({ function_path: 'plain.throw', handler: () => Promise.reject(new Error('nope')) })
    bridge.registerFunction({ function_path: 'not.json', handler: () => ({ n: 1n }) })
    await bridge.connect()
    p.send({ type: 'invokefunction', invocation_id: 'f-1', function_path: 'plain.throw', data: {} })
    p.send({ type: 'invokefunction', invocation_id: 'f-2', function_path: 'not.json', data: {} })
    assert.deepEqual((await p.next((f) => f.invocation_id === 'f-1')).error, {
      code: 'invocation_failed',
      message: 'nope',
    })
    const notJson = await p.next((f) => f.invocation_id === 'f-2')
    assert.equal(notJson.error.code, 'invocation_failed')
    assert.match(notJson.error.message, /the result is not JSON/)
  },

  async non_retryable(t) {
    const p = await startPeer(t)
    const bridge = makeBridge(t, p.url)
    bridge.registerFunction({
      function_path: 'card.charge',
      handler: () => {
        throw new NonRetryableError('card declined', { card: 'visa' })
      },
    })
    await bridge.connect()
    p.send({ type: 'invokefunction', invocation_id: 'n-1', function_path: 'card.charge', data: {} })
    assert.deepEqual((await p.next((f) => f.invocation_id === 'n-1')).error, {
      code: 'non_retryable',
      message: 'card declined',
      details: { card: 'visa' },
    })
  },

  async invocation_stopped(t) {
    const p = await startPeer(t)
    const bridge = makeBridge(t, p.url, { reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 100 })
    await bridge.connect()
    const call = bridge.invokeFunction('remote.slow', {}).catch((e) => e)
    await p.next((f) => f.function_path === 'remote.slow')
    p.dropAll()
    const err = await call
    assert.ok(coded('invocation_stopped', /remote\.slow/)(err))
  },

  async invocation_timeout(t) {
    const p = await startPeer(t)
    const bridge = makeBridge(t, p.url)
    await bridge.connect()
    const start = Date.now()
    await assert.rejects(bridge.invokeFunction('never.answers', {}, { timeoutMs: 150 }), coded('invocation_timeout'))
    assert.ok(Date.now() - start >= 145)
    assert.equal((await p.next((f) => f.function_path === 'never.answers')).timeout_ms, 150)
  },

  async invalid_argument(t) {
    const p = await startPeer(t)
    const bridge = makeBridge(t, p.url)
    await bridge.connect()
    // promise-returning methods reject (never throw synchronously)
    let call: Promise<unknown> | undefined
    assert.doesNotThrow(() => {
      call = bridge.invokeFunction('', {})
    })
    await assert.rejects(call as Promise<unknown>, coded('invalid_argument', /function_path/))
    await assert.rejects(bridge.invokeFunction(42 as never), coded('invalid_argument'))
    await assert.rejects(bridge.invokeFunction('x', {}, { timeoutMs: 0 }), coded('invalid_argument', /timeoutMs/))
    await assert.rejects(bridge.invokeFunction('x', {}, { timeoutMs: 2 ** 31 }), coded('invalid_argument', /timeoutMs/))
    await assert.rejects(bridge.invokeFunction('x', { big: 1n }), coded('invalid_argument', /not JSON/))
    await assert.rejects(bridge.emit('t', { big: 1n }), coded('invalid_argument'))
    // handle-returning methods throw at once; nothing is recorded or sent
    assert.throws(() => bridge.registerFunction({ function_path: '', handler: () => 1 }), coded('invalid_argument'))
    assert.throws(() => bridge.registerFunction({ function_path: 'no.handler' } as never), coded('invalid_argument'))
    assert.throws(() => bridge.registerTrigger({ trigger_type: 'event' } as never), coded('invalid_argument'))
    assert.throws(
      () => bridge.registerFunction({ function_path: 'bad.meta', metadata: { n: 1n } }, () => 1),
      coded('invalid_argument', /not JSON/),
    )
    assert.throws(() => bridge.invokeFunctionAsync('', {}), coded('invalid_argument'))
    assert.throws(() => makeBridge(t, p.url, { pingIntervalMs: -1 }), coded('invalid_argument', /pingIntervalMs/))
    assert.throws(() => makeBridge(t, p.url, { colour: 'red' } as never), coded('invalid_argument', /colour/))
    await sleep(50)
    assert.ok(!p.frames.some((f) => ['no.handler', 'bad.meta', ''].includes(f.function_path)))
  },

  async internal_error(t) {
    // a handler that throws something the SDK cannot even read: the caller still gets an answer
    const p = await startPeer(t)
    const bridge = makeBridge(t, p.url)
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('hostile')
        },
      },
    )
    bridge.registerFunction({
      function_path: 'throws.hostile',
      handler: () => {
        throw hostile
      },
    })
    await bridge.connect()
    p.send({ type: 'invokefunction', invocation_id: 'h-1', function_path: 'throws.hostile', data: {} })
    const answer = await p.next((f) => f.invocation_id === 'h-1')
    assert.equal(answer.error.code, 'internal_error')
    assert.match(answer.error.message, /hostile/)
    assert.ok(bridge.isConnected)
  },

  async bridge_closed(t) {
    const p = await startPeer(t)
    const bridge = makeBridge(t, p.url)
    await bridge.connect()
    const waiting = bridge.invokeFunction('never.answers', {}).catch((e) => e)
    await p.next((f) => f.function_path === 'never.answers')
    await bridge.close()
    assert.ok(coded('bridge_closed')(await waiting))
    await assert.rejects(bridge.invokeFunction('x', {}), coded('bridge_closed'))
    assert.throws(() => bridge.invokeFunctionAsync('x', {}), coded('bridge_closed'))
    // a connect() still waiting when close() is called
    const port = await freePort()
    const never = makeBridge(t, `ws://127.0.0.1:${port}`)
    const connecting = never.connect().catch((e) => e)
    await sleep(50)
    await never.close()
    assert.ok(coded('bridge_closed')(await connecting))
  },

  async queue_full(t) {
    const port = await freePort()
    const bridge = makeBridge(t, `ws://127.0.0.1:${port}`, { maxQueuedMessages: 2 })
    bridge.invokeFunctionAsync('a', {})
    const queuedCall = bridge.invokeFunction('b', {}, { timeoutMs: 5000 }).catch((e) => e)
    assert.throws(() => bridge.invokeFunctionAsync('c', {}), coded('queue_full'))
    await assert.rejects(bridge.invokeFunction('d', {}), coded('queue_full'))
    // what was queued is delivered once the engine stand-in is up
    const p = await startPeer(t, port)
    const sent = await p.next((f) => f.function_path === 'b', 10_000)
    assert.ok(p.frames.some((f) => f.function_path === 'a'))
    assert.ok(!p.frames.some((f) => f.function_path === 'c' || f.function_path === 'd'))
    p.send({ type: 'invocationresult', invocation_id: sent.invocation_id, function_path: 'b', result: 'ok' })
    assert.equal(await queuedCall, 'ok')
  },

  async connection_failed(t) {
    const port = await freePort()
    const bridge = makeBridge(t, `ws://127.0.0.1:${port}`, {
      connectTimeoutMs: 300,
      reconnectInitialDelayMs: 20,
      reconnectMaxDelayMs: 50,
    })
    const queued = bridge.invokeFunction('queued.call', {}, { timeoutMs: 10_000 }).catch((e) => e)
    const start = Date.now()
    const err = await bridge.connect().catch((e) => e)
    const took = Date.now() - start
    assert.ok(coded('connection_failed', /300 ms/)(err))
    assert.ok(took >= 290 && took < 3000, `gave up after ${took} ms`)
    assert.ok(coded('connection_failed')(await queued), 'a call queued for that connection fails with it')
    // it stopped trying: an engine stand-in appearing now gets no connection...
    const p = await startPeer(t, port)
    await sleep(400)
    assert.equal(p.sockets.length, 0)
    // ...until connect() is called again
    await bridge.connect()
    assert.equal(p.sockets.length, 1)
    assert.ok(!p.frames.some((f) => f.function_path === 'queued.call'), 'the failed call is not sent later')
  },
}

describe('contract: the codes an SDK raises (errors.json raised_by "sdk")', () => {
  const sdkCodes = catalogue.filter((e) => e.raised_by.includes('sdk'))

  test('each SDK code has a scenario here, and each scenario is an SDK code of errors.json', () => {
    assert.deepEqual(Object.keys(scenarios).sort(), sdkCodes.map((e) => e.code).sort())
  })

  for (const entry of sdkCodes) {
    const run = scenarios[entry.code]
    test(`${entry.code}: ${entry.when}`, { skip: run === undefined && 'no scenario (the test above fails)' }, (t) =>
      run(t),
    )
  }
})
