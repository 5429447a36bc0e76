/**
 * Graceful shutdown of a Node SDK worker (R21): on SIGTERM the worker takes no new calls (the
 * engine stops routing to it), lets the running handler finish and answer, disconnects, and
 * the signal then ends the process; past `shutdownGraceMs` it disconnects anyway.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, repoRoot, startEngine, startWorker } from '@iii-dev/testkit'
import { connectBridge, waitForFunctions } from './helpers.ts'

const slowWorker = join(repoRoot, 'packages/sdk/test/fixtures/slow-worker.ts')
const exited = (proc: import('node:child_process').ChildProcess) =>
  new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode })
    else proc.once('exit', (code, signal) => resolve({ code, signal }))
  })

test('SIGTERM: the running handler finishes and answers, new calls are not routed to the worker, then it exits', async (t) => {
  const engine = await startEngine(t)
  const worker = startWorker(t, slowWorker, { III_BRIDGE_URL: engine.bridgeUrl, SLOW_MS: '1000' })
  await worker.waitFor('connected')
  const caller = await connectBridge(t, engine.bridgeUrl)
  await waitForFunctions(caller, 'slow.run')
  const running = caller.invokeFunction('slow.run', 'first')
  await worker.waitFor('started "first"')
  const gone = exited(worker.proc)
  worker.proc.kill('SIGTERM')
  // the engine is told at once: a new call finds no worker instead of waiting on this one
  await eventually(async () => {
    const { functions } = await caller.invokeFunction('engine.functions.list', {})
    return !functions.some((f: { function_path: string }) => f.function_path === 'slow.run')
  })
  await assert.rejects(caller.invokeFunction('slow.run', 'second'), { code: 'function_not_found' })
  assert.deepEqual(await running, { echo: 'first' })
  const { signal } = await gone
  assert.equal(signal, 'SIGTERM', 'the signal ends the process once the worker is done')
  assert.ok(worker.output().includes('finished "first"'))
  assert.ok(!worker.output().includes('started "second"'))
})

test('SIGTERM: a handler running past shutdownGraceMs is cut off; the caller gets invocation_stopped', async (t) => {
  const engine = await startEngine(t)
  const worker = startWorker(t, slowWorker, { III_BRIDGE_URL: engine.bridgeUrl, SLOW_MS: '20000', GRACE_MS: '300' })
  await worker.waitFor('connected')
  const caller = await connectBridge(t, engine.bridgeUrl)
  await waitForFunctions(caller, 'slow.run')
  const running = caller.invokeFunction('slow.run', 'long')
  await worker.waitFor('started "long"')
  const at = Date.now()
  const gone = exited(worker.proc)
  worker.proc.kill('SIGTERM')
  await assert.rejects(running, { code: 'invocation_stopped' })
  assert.equal((await gone).signal, 'SIGTERM')
  assert.ok(Date.now() - at < 5000, 'the grace bounds the wait')
  assert.match(worker.output(), /1 handler\(s\) still running after 300 ms/)
})

test('SIGTERM under steady load: the calls already on their way to the worker are answered, none fails', async (t) => {
  const engine = await startEngine(t)
  const env = { III_BRIDGE_URL: engine.bridgeUrl, SLOW_MS: '0', QUIET: '1' }
  const leaving = startWorker(t, slowWorker, env)
  const staying = startWorker(t, slowWorker, env)
  await Promise.all([leaving.waitFor('connected'), staying.waitFor('connected')])
  const caller = await connectBridge(t, engine.bridgeUrl)
  await eventually(async () => {
    const { functions } = await caller.invokeFunction('engine.functions.list', {})
    return functions.filter((f: { function_path: string }) => f.function_path === 'slow.run').length === 1
  })
  let stop = false
  let answered = 0
  const failures: string[] = []
  const lane = async (n: number) => {
    for (let i = 0; !stop; i++) {
      try {
        assert.deepEqual(await caller.invokeFunction('slow.run', `${n}.${i}`), { echo: `${n}.${i}` })
        answered++
      } catch (err) {
        failures.push(String((err as { code?: string }).code ?? err))
      }
    }
  }
  const lanes = Array.from({ length: 32 }, (_, n) => lane(n))
  await eventually(() => answered > 2000)
  const gone = exited(leaving.proc)
  leaving.proc.kill('SIGTERM')
  assert.equal((await gone).signal, 'SIGTERM')
  const before = answered
  await eventually(() => answered > before + 2000)
  stop = true
  await Promise.all(lanes)
  assert.deepEqual(failures, [], 'no call failed while a worker left')
})
