/**
 * Durable events across crashes, through real processes and the real SQLite file: R5 (engine
 * restart with queued, delayed, dead and in-flight events), kill -9 of the engine mid-stream
 * (every acknowledged event handled after the restart), and R6 (1000 events while worker
 * processes are killed and restarted at random).
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, repoRoot, startEngine, startWorker, type WorkerProcess } from '@iii-dev/testkit'
import { NO_ANSWER, RawClient, sleep } from './raw.ts'

const eventWorker = join(repoRoot, 'packages/engine/test/fixtures/event-worker.mjs')

function tempDir(t: { after(fn: () => unknown): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function subscribe(
  c: RawClient,
  fn: string,
  config: Record<string, unknown>,
  handler: (d: any, f: any) => unknown,
) {
  c.register(fn, handler)
  const id = `${fn}#trigger`
  c.send({ type: 'registertrigger', id, trigger_type: 'event', function_path: fn, config })
  await eventually(async () => (await c.call('engine.triggers.list', {})).result.triggers.some((x: any) => x.id === id))
}

test('R5: queued, delayed, dead and in-flight events survive kill -9 of the engine and are delivered after the restart', async (t) => {
  const dataDir = join(tempDir(t, 'iii-r5-'), 'data')
  const first = await startEngine(t, { dataDir })
  const a = await RawClient.connect(t, first.bridgeUrl)
  let hung = 0
  await subscribe(a, 'r5.inflight', { topic: 'r5.inflight' }, () => {
    hung++
    return NO_ANSWER
  })
  await subscribe(a, 'r5.dead', { topic: 'r5.dead', max_attempts: 1 }, () => {
    throw new Error('dead on arrival')
  })
  const gone = await RawClient.connect(t, first.bridgeUrl)
  await subscribe(gone, 'r5.queued', { topic: 'r5.queued' }, () => null)
  gone.close()
  await gone.closed
  await sleep(50)
  await a.call('emit', { topic: 'r5.inflight', data: 'in flight' })
  await a.call('emit', { topic: 'r5.dead', data: 'dead' })
  for (let i = 0; i < 3; i++) await a.call('emit', { topic: 'r5.queued', data: `queued ${i}` })
  const delayedAt = Date.now()
  await a.call('emit', { topic: 'r5.queued', data: 'delayed', delay_ms: 3000 })
  await eventually(() => hung === 1)
  await eventually(async () => (await a.call('events.deadLetters.list', {})).result.items.length === 1)
  await first.kill()

  const second = await startEngine(t, { dataDir })
  const b = await RawClient.connect(t, second.bridgeUrl)
  const stats = (await b.call('events.stats', {})).result.subscriptions
  const by = (fn: string) => stats.find((s: any) => s.function_path === fn)
  assert.equal(by('r5.inflight').pending, 1, 'the in-flight delivery is pending again')
  // The delayed event is counted as delayed until its time (on a loaded machine the restart
  // may take longer than the delay), then as pending.
  assert.equal(by('r5.queued').pending + by('r5.queued').delayed, 4)
  if (Date.now() - delayedAt < 2500) assert.equal(by('r5.queued').delayed, 1)
  assert.equal(by('r5.dead').dead, 1)
  const [dead] = (await b.call('events.deadLetters.list', {})).result.items
  assert.equal(dead.data, 'dead')
  assert.equal(dead.error.message, 'dead on arrival')

  const got: Array<{ d: any; attempt: number; at: number }> = []
  const record = (d: any, f: any) => void got.push({ d, attempt: f.trigger.attempt, at: Date.now() })
  await subscribe(b, 'r5.inflight', { topic: 'r5.inflight' }, record)
  await subscribe(b, 'r5.queued', { topic: 'r5.queued' }, record)
  await eventually(() => got.length === 5, 8000)
  assert.deepEqual(got.map((g) => g.d).sort(), ['delayed', 'in flight', 'queued 0', 'queued 1', 'queued 2'])
  assert.equal(got.find((g) => g.d === 'in flight')?.attempt, 2, 'the interrupted attempt counted')
  assert.ok((got.find((g) => g.d === 'delayed')?.at ?? 0) - delayedAt >= 2995, 'the delay held across the restart')
  assert.equal((await b.call('events.deadLetters.redrive', { topic: 'r5.dead' })).result.redriven, 1)
})

test('kill -9 of the engine mid-stream: every acknowledged event is handled after the restart', async (t) => {
  const dataDir = join(tempDir(t, 'iii-kill-'), 'data')
  const first = await startEngine(t, { dataDir })
  const handled = new Map<string, number>()
  const record = (_d: unknown, f: any) => {
    handled.set(f.trigger.event_id, (handled.get(f.trigger.event_id) ?? 0) + 1)
    return sleep(2)
  }
  const w1 = await RawClient.connect(t, first.bridgeUrl)
  await subscribe(w1, 'kill.fn', { topic: 'kill', concurrency: 8 }, record)
  const emitter = await RawClient.connect(t, first.bridgeUrl)
  const acked = new Set<string>()
  let killed: Promise<void> | undefined
  const calls: Promise<unknown>[] = []
  for (let i = 0; i < 800; i++) {
    calls.push(
      emitter.call('emit', { topic: 'kill', data: { n: i } }).then(
        (f) => {
          if (f.result?.event_id) acked.add(f.result.event_id)
          if (acked.size === 300 && killed === undefined) killed = first.kill()
        },
        () => {},
      ),
    )
    if (i % 50 === 49) await sleep(5)
  }
  await eventually(() => killed !== undefined, 10_000)
  await killed
  assert.ok(acked.size >= 300)
  const handledBefore = handled.size

  const second = await startEngine(t, { dataDir })
  const w2 = await RawClient.connect(t, second.bridgeUrl)
  await subscribe(w2, 'kill.fn', { topic: 'kill', concurrency: 8 }, record)
  await eventually(() => [...acked].every((id) => handled.has(id)), 15_000)
  const duplicates = [...handled.values()].reduce((s, n) => s + n - 1, 0)
  t.diagnostic(
    `${acked.size} acknowledged, ${handledBefore} handled before the kill, ${handled.size} handled in all, ${duplicates} duplicates`,
  )
  const stats = (await w2.call('events.stats', {})).result.subscriptions
  await eventually(async () => {
    const s = (await w2.call('events.stats', {})).result.subscriptions[0]
    return s.pending + s.in_flight + s.delayed === 0
  })
  assert.equal(stats[0].dead, 0)
})

test('R6: 1000 events while worker processes are killed and restarted at random: 1000 of 1000 handled', async (t) => {
  const dir = tempDir(t, 'iii-r6-')
  const engine = await startEngine(t)
  const config = JSON.stringify({ max_attempts: 100, concurrency: 16, backoff: { type: 'fixed', initial_ms: 20 } })
  let started = 0
  const spawn = (): WorkerProcess =>
    startWorker(t, eventWorker, {
      III_BRIDGE_URL: engine.bridgeUrl,
      FN: 'r6.fn',
      TOPIC: 'r6',
      OUT: join(dir, `w${started++}.log`),
      CONFIG: config,
      WORK_MS: '5',
    })
  const workers = [spawn(), spawn(), spawn()]
  await Promise.all(workers.map((w) => w.waitFor('event worker ready')))
  const emitter = await RawClient.connect(t, engine.bridgeUrl)
  let emitting = true
  let kills = 0
  const chaos = (async () => {
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    while (emitting) {
      await sleep(50 + random() * 150)
      // Killed at once, replaced by a process that connects when it is up (not waited for).
      const i = Math.floor(random() * workers.length)
      await workers[i].kill()
      kills++
      workers[i] = spawn()
    }
  })()
  const ids = new Set<string>()
  for (let n = 0; n < 1000; n += 10) {
    const batch = await Promise.all(
      Array.from({ length: 10 }, (_, k) => emitter.call('emit', { topic: 'r6', data: { n: n + k } })),
    )
    for (const f of batch) ids.add(f.result.event_id)
    await sleep(25)
  }
  emitting = false
  await chaos
  assert.equal(ids.size, 1000)
  const count = () => {
    const seen = new Map<number, number>()
    for (let i = 0; i < started; i++) {
      const file = join(dir, `w${i}.log`)
      if (!existsSync(file)) continue
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line === '') continue
        const n = Number(line.split(' ')[1])
        seen.set(n, (seen.get(n) ?? 0) + 1)
      }
    }
    return seen
  }
  await eventually(() => count().size === 1000, 20_000, 100)
  const seen = count()
  const duplicates = [...seen.values()].reduce((s, c) => s + c - 1, 0)
  t.diagnostic(`1000 of 1000 handled across ${started} worker processes (${kills} killed); ${duplicates} duplicates`)
  for (let n = 0; n < 1000; n++) assert.ok(seen.has(n), `event ${n} was never handled`)
  const dead = (await emitter.call('events.deadLetters.list', {})).result.items
  assert.deepEqual(dead, [])
})
