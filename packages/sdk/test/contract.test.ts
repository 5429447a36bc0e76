/**
 * The SDK contract shared with the Python SDK, driven by protocol/sdk-cases.json (read here at
 * test time, never copied); contract-errors.test.ts does the same for protocol/errors.json. Every case runs against the real
 * SDK over a real socket: a bare WebSocket server standing in for the engine where the exact
 * frames matter, the real engine where the caller's view matters. The Python twin is
 * python/iii/tests/test_contract.py.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type EngineProcess, eventually, repoRoot, startEngine } from '@iii-dev/testkit'
import {
  type Bridge,
  DEFAULTS,
  IIIError,
  Logger,
  type LogRecord,
  SECRET_KEYS,
  SECRET_QUERY_PARAMS,
} from '../src/index.ts'
import { backoffDelay } from '../src/transport.ts'
import { connectBridge, makeBridge, suiteCleanup, waitForFunctions } from './helpers.ts'
import { startPeer } from './peer.ts'

interface ThrowCase {
  name: string
  throw: { kind: 'coded' | 'plain' | 'wire_object'; code?: string; message: string }
  error: { code: string; message: string }
  languages?: string[]
}
interface Cases {
  replay_order: { order: string[] }
  thrown_errors: { cases: ThrowCase[] }
  redaction: {
    replacement: string
    secret_keys: string[]
    secret_query_params: string[]
    cases: Array<{ name: string; input: unknown; output: unknown }>
  }
  backoff: {
    defaults: { initial_ms: number; max_ms: number }
    cases: Array<{ attempt: number; initial_ms: number; max_ms: number; min_ms: number; max_delay_ms: number }>
  }
  missing_result: { frame: Record<string, unknown>; result: unknown }
}

const read = (name: string) => JSON.parse(readFileSync(join(repoRoot, 'protocol', name), 'utf8'))
const cases: Cases = read('sdk-cases.json')

/** What a handler throws for a `thrown_errors` case, in Node's terms. */
function thrown(c: ThrowCase['throw']): unknown {
  if (c.kind === 'coded') return new IIIError(c.code as string, c.message)
  if (c.kind === 'plain') return new Error(c.message)
  return { code: c.code, message: c.message }
}

const nodeThrowCases = cases.thrown_errors.cases.filter((c) => c.languages?.includes('node') ?? true)

describe('contract: replay order after (re)connect', () => {
  test('every kind in the order of sdk-cases.json, registration order within a kind, queued frames after', async (t) => {
    const order = cases.replay_order.order
    const p = await startPeer(t)
    const bridge = makeBridge(t, p.url, { reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 50 })
    const register: Record<string, (n: number) => string> = {
      registerservice: (n) => {
        bridge.registerService({ id: `svc.${n}` })
        return `svc.${n}`
      },
      registertriggertype: (n) => {
        bridge.registerTriggerType({ id: `tt.${n}` }, { registerTrigger() {}, unregisterTrigger() {} })
        return `tt.${n}`
      },
      registerfunction: (n) => bridge.registerFunction({ function_path: `fn.${n}`, handler: () => n }).function_path,
      registercondition: (n) => {
        bridge.registerCondition({ function_path: 'fn.1', condition_function_path: `cond.${n}` })
        return `fn.1<-cond.${n}`
      },
      registertrigger: (n) =>
        bridge.registerTrigger({
          id: `trig.${n}`,
          trigger_type: 'event',
          function_path: 'fn.1',
          config: { topic: 't' },
        }).id,
    }
    assert.deepEqual(Object.keys(register).sort(), [...order].sort(), 'the case file names the registration kinds')
    const keyOf = (f: any) =>
      f.type === 'registercondition' ? `${f.function_path}<-${f.condition_function_path}` : (f.id ?? f.function_path)
    // registered in the reverse order, interleaved, so no order comes out by accident
    const byKind: Record<string, string[]> = Object.fromEntries(order.map((k) => [k, []]))
    for (const n of [2, 1]) for (const kind of [...order].reverse()) byKind[kind].push(register[kind](n))
    const expected = order.flatMap((kind) => byKind[kind].map((key) => `${kind} ${key}`))

    bridge.invokeFunctionAsync('queued.before.connect', {})
    await bridge.connect()
    await p.next((f) => f.function_path === 'queued.before.connect')
    const seen = () => p.frames.slice(0, expected.length).map((f) => `${f.type} ${keyOf(f)}`)
    assert.deepEqual(seen(), expected)
    assert.equal(p.frames[expected.length].function_path, 'queued.before.connect', 'queued frames follow the replay')

    p.frames.length = 0
    bridge.on('disconnected', () => bridge.invokeFunctionAsync('queued.while.down', {}))
    p.dropAll()
    await p.next((f) => f.function_path === 'queued.while.down')
    assert.deepEqual(seen(), expected, 'the same order after a reconnect')
    assert.equal(p.frames[expected.length].function_path, 'queued.while.down')
  })
})

describe('contract: a thrown error keeps its code', () => {
  for (const c of nodeThrowCases) {
    test(`on the wire: ${c.name}`, async (t) => {
      const p = await startPeer(t)
      const bridge = makeBridge(t, p.url)
      bridge.registerFunction({
        function_path: 'contract.throws',
        handler: () => {
          throw thrown(c.throw)
        },
      })
      await bridge.connect()
      p.send({ type: 'invokefunction', invocation_id: 'c-1', function_path: 'contract.throws', data: {} })
      const answer = await p.next((f) => f.invocation_id === 'c-1')
      assert.equal(answer.type, 'invocationresult')
      assert.deepEqual(answer.error, c.error)
      assert.equal('result' in answer, false)
    })
  }

  describe('through the real engine', () => {
    let engine: EngineProcess
    let worker: Bridge
    let caller: Bridge
    const ctx = suiteCleanup()
    after(() => ctx.run())
    before(async () => {
      engine = await startEngine(ctx)
      worker = await connectBridge(ctx, engine.bridgeUrl)
      caller = await connectBridge(ctx, engine.bridgeUrl)
    })
    nodeThrowCases.forEach((c, i) => {
      test(`the caller sees: ${c.name}`, async () => {
        const path = `contract.throws.${i}`
        worker.registerFunction({
          function_path: path,
          handler: async () => {
            throw thrown(c.throw)
          },
        })
        await waitForFunctions(caller, path)
        const err = await caller.invokeFunction(path, {}).catch((e) => e)
        assert.ok(err instanceof IIIError, `rejected with an IIIError, got ${err}`)
        assert.deepEqual({ code: err.code, message: err.message }, c.error)
      })
    })
  })
})

describe('contract: redaction', () => {
  test('the secret keys and query parameters are exactly the lists of sdk-cases.json', () => {
    assert.deepEqual([...SECRET_KEYS].sort(), [...cases.redaction.secret_keys].sort())
    assert.deepEqual([...SECRET_QUERY_PARAMS].sort(), [...cases.redaction.secret_query_params].sort())
    const log = (data: unknown) => {
      const sent: LogRecord[] = []
      new Logger({ level: 'info', write: () => {}, forward: (r) => sent.push(r) }).info('m', data)
      return sent[0].data
    }
    for (const key of cases.redaction.secret_keys) {
      for (const spelled of [key, key.toUpperCase()]) {
        assert.deepEqual(log({ [spelled]: 'v' }), { [spelled]: cases.redaction.replacement }, spelled)
      }
    }
    for (const param of cases.redaction.secret_query_params) {
      assert.equal(log(`/p?${param}=v&x=1`), `/p?${param}=${cases.redaction.replacement}&x=1`, param)
    }
  })

  for (const c of cases.redaction.cases) {
    test(`written and forwarded: ${c.name}`, async (t) => {
      // the local line and the record handed to the forwarder
      const lines: string[] = []
      const sent: LogRecord[] = []
      const log = new Logger({ level: 'info', write: (l) => lines.push(l), forward: (r) => sent.push(r) })
      log.info('case', c.input)
      assert.deepEqual(sent[0].data, c.output)
      assert.ok(lines[0].endsWith(` case ${JSON.stringify(c.output)}`), lines[0])
      // and what a bridge really sends to the engine's logger.log (its local line goes to stdout)
      const p = await startPeer(t)
      const bridge = makeBridge(t, p.url, { forwardLogs: true, logLevel: 'info' })
      await bridge.connect()
      const marker = `redaction case ${c.name}`
      bridge.logger.info(marker, c.input)
      const frame = await p.next((f) => f.function_path === 'logger.log' && f.data?.message === marker)
      assert.deepEqual(frame.data.data, c.output)
    })
  }
})

describe('contract: reconnect backoff', () => {
  test('the defaults are those of sdk-cases.json', () => {
    assert.equal(DEFAULTS.reconnectInitialDelayMs, cases.backoff.defaults.initial_ms)
    assert.equal(DEFAULTS.reconnectMaxDelayMs, cases.backoff.defaults.max_ms)
  })

  for (const c of cases.backoff.cases) {
    test(`attempt ${c.attempt} (initial ${c.initial_ms}, max ${c.max_ms}): in [${c.min_ms}, ${c.max_delay_ms}], spread over it`, () => {
      const draws = Array.from({ length: 4000 }, () => backoffDelay(c.attempt, c.initial_ms, c.max_ms))
      const lo = Math.min(...draws)
      const hi = Math.max(...draws)
      assert.ok(lo >= c.min_ms, `a delay of ${lo} ms is under ${c.min_ms}`)
      assert.ok(hi <= c.max_delay_ms, `a delay of ${hi} ms is over ${c.max_delay_ms}`)
      // uniform over the whole range: both ends are reached within 5 %
      const range = c.max_delay_ms - c.min_ms
      assert.ok(lo < c.min_ms + range * 0.05 && hi > c.max_delay_ms - range * 0.05, `spread [${lo}, ${hi}]`)
    })
  }

  test('a real reconnect waits at least half the cap (equal jitter), never 0', async (t) => {
    const p = await startPeer(t)
    const cap = 200
    const bridge = makeBridge(t, p.url, { reconnectInitialDelayMs: cap, reconnectMaxDelayMs: cap })
    await bridge.connect()
    for (let i = 1; i <= 4; i++) {
      const droppedAt = Date.now()
      p.dropAll()
      await eventually(() => p.sockets.length === i + 1, 5000)
      const gap = p.acceptedAt[i] - droppedAt
      assert.ok(gap >= cap / 2 - 2, `reconnected after ${gap} ms, under ${cap / 2}`)
      assert.ok(gap < cap + 2000, `reconnected after ${gap} ms`)
    }
  })
})

describe('contract: a missing result', () => {
  test('an invocationresult without result and error resolves with null', async (t) => {
    const p = await startPeer(t)
    const bridge = makeBridge(t, p.url)
    await bridge.connect()
    const path = cases.missing_result.frame.function_path as string
    const call = bridge.invokeFunction(path, {})
    const sent = await p.next((f) => f.type === 'invokefunction' && f.function_path === path)
    p.send({ ...cases.missing_result.frame, invocation_id: sent.invocation_id })
    assert.equal(await call, cases.missing_result.result)
  })
})
