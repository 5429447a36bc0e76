/** Calls between worker processes through a real engine: results, coded errors, timeouts, traces. */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type EngineProcess, eventually, repoRoot, startEngine, startWorker } from '@iii-dev/testkit'
import { type Bridge, getContext, IIIError } from '../src/index.ts'
import { coded, connectBridge, suiteCleanup, waitForFunctions } from './helpers.ts'

const mathWorker = join(repoRoot, 'packages/sdk/test/fixtures/math-worker.ts')

describe('calls across processes', () => {
  let engine: EngineProcess
  let worker: ReturnType<typeof startWorker>
  let caller: Bridge

  const ctx = suiteCleanup()
  after(() => ctx.run())

  before(async () => {
    // one engine and one worker process for the whole suite keeps it fast
    engine = await startEngine(ctx)
    worker = startWorker(ctx, mathWorker, { III_BRIDGE_URL: engine.bridgeUrl, III_LOG_LEVEL: 'info' })
    await worker.waitFor('math worker connected')
    caller = await connectBridge(ctx, engine.bridgeUrl)
    await waitForFunctions(caller, 'math.add', 'math.trace')
  })

  test('a function registered by one process is called from another', async () => {
    assert.equal(await caller.invokeFunction('math.add', { a: 2, b: 40 }), 42)
  })

  test('a handler that returns nothing answers null', async () => {
    assert.equal(await caller.invokeFunction('math.nothing', {}), null)
  })

  test('the worker described itself to the engine on connect', async () => {
    const found = await eventually(async () => {
      const { workers } = await caller.invokeFunction('engine.workers.list', {})
      return workers.find((w: { name?: string }) => w.name === 'math-worker')
    })
    assert.equal(found.runtime, 'node')
    assert.equal(found.version, process.version)
    assert.equal(typeof found.os, 'string')
  })

  test('an unknown function rejects with function_not_found', async () => {
    await assert.rejects(caller.invokeFunction('nope.nothing', {}), coded('function_not_found'))
  })

  test('a handler that throws rejects with invocation_failed and its message', async () => {
    const err = await caller.invokeFunction('math.fail', {}).catch((e) => e)
    assert.ok(err instanceof IIIError)
    assert.equal(err.code, 'invocation_failed')
    assert.equal(err.message, 'kaboom')
  })

  test('a handler that throws an IIIError chooses the code', async () => {
    await assert.rejects(caller.invokeFunction('math.coded', {}), coded('invalid_argument', /a must be positive/))
  })

  test('a call times out with invocation_timeout close to timeoutMs', async () => {
    const start = Date.now()
    await assert.rejects(
      caller.invokeFunction('math.slow', { ms: 1500 }, { timeoutMs: 300 }),
      coded('invocation_timeout'),
    )
    const took = Date.now() - start
    assert.ok(took >= 280 && took < 700, `took ${took} ms`)
    // the late answer is dropped and the bridge keeps working
    assert.equal(await caller.invokeFunction('math.add', { a: 1, b: 1 }), 2)
  })

  test('a bad timeout is refused before anything is sent', async () => {
    await assert.rejects(caller.invokeFunction('math.add', {}, { timeoutMs: -1 }), coded('invalid_argument'))
  })

  test('data that JSON cannot carry is refused with invalid_argument', async () => {
    await assert.rejects(caller.invokeFunction('math.add', { n: 1n }), coded('invalid_argument'))
  })

  test('invokeFunctionAsync runs the function and returns nothing', async () => {
    const marker = Math.random().toString(36).slice(2)
    assert.equal(caller.invokeFunctionAsync('math.record', { marker }), undefined)
    await worker.waitFor(`recorded {"marker":"${marker}"}`, 5000)
  })

  test('the trace id travels through a call chain and into the logs', async (t) => {
    const seen: string[] = []
    const probe = caller.registerFunction({
      function_path: 'probe.trace',
      handler: (_d, ctx) => {
        seen.push(ctx.traceparent)
        return getContext()?.traceId
      },
    })
    t.after(() => probe.unregister())
    await waitForFunctions(caller, 'probe.trace')
    const out = await caller.invokeFunction('math.trace', {})
    assert.match(out.here, /^[0-9a-f]{32}$/)
    assert.equal(out.fromContext, out.here)
    assert.equal(out.next, out.here)
    assert.match(seen[0], new RegExp(`^00-${out.here}-[0-9a-f]{16}-01$`))
    await worker.waitFor(`trace=${out.here} fn=math.trace] math.trace running`, 5000)
    // the same line reached the engine's logger.log with the trace id
    await eventually(() => engine.output().includes(`"trace_id":"${out.here}"`), 5000)
  })

  test('a call made inside a handler keeps the caller trace', async (t) => {
    const start = caller.registerFunction({
      function_path: 'probe.start',
      handler: async (_d, ctx) => ({ mine: ctx.traceId, chain: await caller.invokeFunction('math.trace', {}) }),
    })
    const probe = caller.registerFunction({ function_path: 'probe.trace', handler: () => getContext()?.traceId })
    t.after(() => {
      start.unregister()
      probe.unregister()
    })
    await waitForFunctions(caller, 'probe.start', 'probe.trace')
    const out = await caller.invokeFunction('probe.start', {})
    assert.equal(out.chain.here, out.mine)
    assert.equal(out.chain.next, out.mine)
  })
})
