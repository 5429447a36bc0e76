/**
 * A SIGSTOPped worker (attack finding, R2/R10): once it misses a heartbeat pong it gets no
 * new calls while another worker serves the function, and a call whose frame never left the
 * engine when the worker was dropped is made again on the live worker. SIGCONT: it rejoins.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { eventually, startEngine, startWorker, type WorkerProcess } from '@iii-dev/testkit'
import { RawClient } from './raw.ts'

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
