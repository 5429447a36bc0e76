/**
 * Graceful shutdown of the engine (R21), through the real `iii` process: on SIGTERM it refuses
 * new connections, lets calls, HTTP requests and durable deliveries in flight finish within
 * `shutdown_grace_ms`, fails the rest with `invocation_stopped`, closes worker sockets with
 * 1001 and exits 0; a durable delivery cut short is delivered again after the restart.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { NO_ANSWER, RawClient, sleep } from './raw.ts'

const exited = (proc: { exitCode: number | null; once: (e: 'exit', f: (code: number | null) => void) => void }) =>
  proc.exitCode !== null ? Promise.resolve(proc.exitCode) : new Promise<number | null>((r) => proc.once('exit', r))

/** Resolves with the error code of a TCP connection attempt, or 'connected'. */
function tryConnect(url: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const s = connect(Number(port), hostname)
    s.once('connect', () => {
      s.destroy()
      resolve('connected')
    })
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? String(err)))
  })
}

test('SIGTERM: running calls and HTTP requests finish, new connections are refused, workers get 1001, exit 0', async (t) => {
  const engine = await startEngine(t, { config: 'shutdown_grace_ms: 5000\n' })
  const worker = await RawClient.connect(t, engine.bridgeUrl)
  let started = 0
  worker.register('slow', async (data) => {
    started++
    await sleep(800)
    return { status_code: 200, body: { done: data?.body ?? data } }
  })
  worker.send({
    type: 'registertrigger',
    id: 'slow-route',
    trigger_type: 'api',
    function_path: 'slow',
    config: { api_path: 'slow', http_method: 'POST' },
  })
  const caller = await RawClient.connect(t, engine.bridgeUrl)
  await eventually(async () => (await fetch(`${engine.apiUrl}/slow`, { method: 'OPTIONS' })).status === 204)

  const http = fetch(`${engine.apiUrl}/slow`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '"over http"',
  })
  const call = caller.call('slow', 'over the bridge')
  await eventually(() => started === 2)
  const at = Date.now()
  engine.proc.kill('SIGTERM')
  await sleep(150)
  assert.equal(await tryConnect(engine.bridgeUrl), 'ECONNREFUSED', 'the bridge takes no new connections')
  assert.equal(await tryConnect(engine.apiUrl), 'ECONNREFUSED', 'the api takes no new connections')

  const res = await http
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { done: 'over http' })
  const answer = await call
  assert.equal(answer.error, undefined)
  assert.deepEqual(answer.result, { status_code: 200, body: { done: 'over the bridge' } })
  const closed = await worker.closed
  assert.equal(closed.code, 1001)
  assert.equal(await exited(engine.proc), 0)
  assert.ok(Date.now() - at < 4000, 'the engine exits once the work in flight is done, not after the whole grace')
})

test('SIGTERM: a call still running after shutdown_grace_ms fails with invocation_stopped and the engine exits 0', async (t) => {
  const engine = await startEngine(t, { config: 'shutdown_grace_ms: 300\n' })
  const worker = await RawClient.connect(t, engine.bridgeUrl)
  let started = 0
  worker.register('hang', () => {
    started++
    return NO_ANSWER
  })
  const caller = await RawClient.connect(t, engine.bridgeUrl)
  await eventually(async () => (await caller.call('engine.functions.list', {})).result.functions.length > 0)
  const call = caller.call('hang', null)
  await eventually(() => started === 1)
  const at = Date.now()
  engine.proc.kill('SIGTERM')
  const answer = await call
  assert.equal(answer.error?.code, 'invocation_stopped')
  assert.match(answer.error?.message, /shutting down/)
  assert.ok(Date.now() - at >= 250, 'the call had its grace')
  assert.equal(await exited(engine.proc), 0)
  assert.ok(engine.output().includes('1 calls still running after 300 ms'), engine.output())
})

test('SIGTERM with durable events: a delivery that finishes in the grace is acknowledged once, one cut short runs again after the restart', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'iii-shutdown-'))
  t.after(() => rmSync(tmp, { recursive: true, force: true }))
  const dataDir = join(tmp, 'data')
  const config = 'shutdown_grace_ms: 1500\n'
  const first = await startEngine(t, { dataDir, config })
  const a = await RawClient.connect(t, first.bridgeUrl)
  const seen: string[] = []
  const subscribe = async (c: RawClient, fn: string, handler: (d: any) => unknown) => {
    c.register(fn, handler)
    c.send({ type: 'registertrigger', id: `${fn}#t`, trigger_type: 'event', function_path: fn, config: { topic: fn } })
    await eventually(async () =>
      (await c.call('engine.triggers.list', {})).result.triggers.some((x: any) => x.id === `${fn}#t`),
    )
  }
  await subscribe(a, 'sd.quick', async (d) => {
    seen.push(`quick:${d}`)
    await sleep(500)
    return null
  })
  await subscribe(a, 'sd.stuck', (d) => {
    seen.push(`stuck:${d}`)
    return NO_ANSWER
  })
  assert.equal((await a.call('emit', { topic: 'sd.quick', data: 'one' })).error, undefined)
  assert.equal((await a.call('emit', { topic: 'sd.stuck', data: 'two' })).error, undefined)
  await eventually(() => seen.length === 2)
  first.proc.kill('SIGTERM')
  assert.equal(await exited(first.proc), 0)

  const second = await startEngine(t, { dataDir, config })
  const b = await RawClient.connect(t, second.bridgeUrl)
  const stats = (await b.call('events.stats', {})).result.subscriptions
  const by = (fn: string) => stats.find((s: any) => s.function_path === fn)
  assert.equal(by('sd.quick').pending, 0, 'the finished delivery was acknowledged before the exit')
  assert.equal(by('sd.stuck').pending, 1, 'the delivery cut short is pending again')
  assert.equal(by('sd.stuck').in_flight, 0, 'released by the shutdown, not left leased')
  const again: Array<{ d: unknown; attempt: number }> = []
  for (const fn of ['sd.quick', 'sd.stuck']) {
    b.register(fn, (d, f) => void again.push({ d, attempt: f.trigger.attempt }))
    b.send({ type: 'registertrigger', id: `${fn}#t`, trigger_type: 'event', function_path: fn, config: { topic: fn } })
  }
  await eventually(() => again.length === 1, 8000)
  await sleep(300)
  assert.deepEqual(again, [{ d: 'two', attempt: 1 }], 'only the cut delivery runs again, its attempt not counted')
})
