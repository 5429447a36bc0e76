/**
 * A SIGSTOPped worker (attack finding, R2/R10): once it misses a heartbeat pong it gets no
 * new calls while another worker serves the function, and a call whose frame never left the
 * engine when the worker was dropped is made again on the live worker, within its original
 * deadline. SIGCONT: it rejoins.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { eventually, startEngine, startWorker, type WorkerProcess } from '@iii-dev/testkit'
import { NO_ANSWER, RawClient } from './raw.ts'

const WHO = fileURLToPath(new URL('./fixtures/who-worker.mjs', import.meta.url))

async function twoWorkers(t: { after(fn: () => unknown): void }, heartbeatMs: number) {
  const engine = await startEngine(t, { config: `bridge:\n  heartbeat_ms: ${heartbeatMs}\n` })
  const a = startWorker(t, WHO, { III_BRIDGE_URL: engine.bridgeUrl, NAME: 'a' })
  const b = startWorker(t, WHO, { III_BRIDGE_URL: engine.bridgeUrl, NAME: 'b' })
  t.after(() => a.proc.kill('SIGCONT'))
  await Promise.all([a.waitFor('who worker ready'), b.waitFor('who worker ready')])
  const caller = await RawClient.connect(t, engine.bridgeUrl)
  const who = async (data: unknown = {}) => {
    const r = await caller.call('rr.who', data, { waitMs: 20_000 })
    return r.error === undefined ? (r.result.name as string) : `error:${r.error.code}`
  }
  await eventually(async () => {
    const names = new Set([await who(), await who()])
    return names.has('a') && names.has('b')
  })
  return { engine, a, b, who }
}

function stop(w: WorkerProcess): void {
  w.proc.kill('SIGSTOP')
}

test('a worker that misses a pong gets no new calls; the live one answers them all; SIGCONT rejoins', async (t) => {
  const { engine, a, who } = await twoWorkers(t, 1000)
  stop(a)
  const stoppedAt = Date.now()
  await eventually(() => engine.output().includes('did not answer a heartbeat ping in time'), 3000)
  const lateAfter = Date.now() - stoppedAt
  assert.ok(lateAfter <= 1000 + 250 + 300, `routed around after ${lateAfter} ms (heartbeat 1000 ms)`)
  const started = Date.now()
  const answers = await Promise.all(Array.from({ length: 20 }, () => who()))
  const took = Date.now() - started
  assert.deepEqual(answers, Array(20).fill('b'), 'every call answered by the live worker')
  assert.ok(took < 1000, `20 calls took ${took} ms`)
  console.log(`routed around the stopped worker ${lateAfter} ms after SIGSTOP; 20 calls in ${took} ms`)
  a.proc.kill('SIGCONT')
  // It answers its ping again (or, if the heartbeat dropped it meanwhile, reconnects): calls reach it.
  await eventually(async () => (await Promise.all([who(), who(), who()])).includes('a'), 8000, 100)
})

test('calls whose frames never left the engine are retried on the live worker when the stopped one is dropped', async (t) => {
  const { engine, a, who } = await twoWorkers(t, 1000)
  stop(a)
  // Big frames to a stopped reader fill the socket buffers; what did not fit never left the engine.
  const blob = 'x'.repeat(2 * 1024 * 1024)
  const answers = await Promise.all(Array.from({ length: 24 }, () => who({ blob })))
  const byB = answers.filter((n) => n === 'b').length
  const stopped = answers.filter((n) => n === 'error:invocation_stopped').length
  console.log(`24 calls of 2 MiB: ${byB} answered by the live worker, ${stopped} invocation_stopped`)
  assert.equal(byB + stopped, 24, `only the live worker's answers or invocation_stopped: ${answers}`)
  assert.ok(byB > 12, `calls routed to the stopped worker were retried (${byB} of 24 answered by b)`)
  assert.match(engine.output(), /calls that never reached worker w-\d+ were sent to other workers/)
  a.proc.kill('SIGCONT')
})

test('a call retried on another worker keeps its original deadline (timeout_ms), not a fresh one', async (t) => {
  const engine = await startEngine(t, { config: 'bridge:\n  heartbeat_ms: 1000\n' })
  const a = startWorker(t, WHO, { III_BRIDGE_URL: engine.bridgeUrl, NAME: 'a' })
  t.after(() => a.proc.kill('SIGCONT'))
  await a.waitFor('who worker ready')
  // The second worker takes every call it gets and never answers: each call ends at its deadline.
  const b = await RawClient.connect(t, engine.bridgeUrl)
  let reachedB = 0
  b.register('rr.who', () => {
    reachedB++
    return NO_ANSWER
  })
  const caller = await RawClient.connect(t, engine.bridgeUrl)
  await eventually(async () => {
    const list = (await caller.call('engine.workers.list', {})).result.workers as Array<{ functions: string[] }>
    return list.filter((w) => w.functions.includes('rr.who')).length === 2
  })
  stop(a)
  const timeoutMs = 4000
  const blob = 'x'.repeat(2 * 1024 * 1024)
  const timed = await Promise.all(
    Array.from({ length: 24 }, async () => {
      const at = Date.now()
      const r = await caller.call('rr.who', { blob }, { timeout_ms: timeoutMs, waitMs: 20_000 })
      return { ms: Date.now() - at, code: r.error?.code as string | undefined }
    }),
  )
  assert.match(engine.output(), /calls that never reached worker w-\d+ were sent to other workers/)
  assert.ok(reachedB > 12, `some calls were retried on the second worker (${reachedB} of 24 reached it)`)
  const slowest = Math.max(...timed.map((c) => c.ms))
  console.log(
    `24 calls with timeout_ms ${timeoutMs}, ${reachedB} reached the second worker; slowest ended after ${slowest} ms`,
  )
  for (const c of timed) {
    assert.ok(c.code === 'invocation_timeout' || c.code === 'invocation_stopped', JSON.stringify(c))
    assert.ok(c.ms <= timeoutMs + 500, `a call ended ${c.ms} ms after it was made (timeout_ms ${timeoutMs})`)
  }
  a.proc.kill('SIGCONT')
})
