/**
 * Slow and half-open clients (R19): sockets that connect and never finish their request
 * headers or WebSocket upgrade are closed by every port (bridge, api, streams, console)
 * within `header_timeout_ms`; a normal client is served meanwhile; the engine's open file
 * descriptors return to where they were.
 */
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { test } from 'node:test'
import { type EngineProcess, eventually, startEngine } from '@iii-dev/testkit'
import { RawClient } from './raw.ts'

const SLACK_MS = 250

/** Waits up to 3 s for `ok`, then fails with `why`. */
async function held(ok: () => boolean, why: () => string): Promise<void> {
  await eventually(ok, 3000).catch(() => assert.fail(why()))
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

/** Opens a raw TCP socket, writes `partial`, resolves with how long the server took to close it. */
function slowSocket(
  url: string,
  partial: string,
  sockets: Socket[],
): { opened: Promise<void>; closedAfter: Promise<number> } {
  const { hostname, port } = new URL(url)
  const s = connect(Number(port), hostname)
  sockets.push(s)
  s.on('error', () => {})
  s.on('data', () => {})
  let at = 0
  const opened = new Promise<void>((resolve) =>
    s.once('connect', () => {
      at = Date.now()
      if (partial !== '') s.write(partial)
      resolve()
    }),
  )
  const closedAfter = new Promise<number>((resolve) => s.once('close', () => resolve(Date.now() - at)))
  return { opened, closedAfter }
}

const PARTIALS = [
  '',
  'GET / HT',
  'GET / HTTP/1.1\r\nHost: x\r\n',
  'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n',
]

function ports(engine: EngineProcess): Record<string, string> {
  const ready = engine.ready as unknown as Record<string, string>
  return {
    bridge: engine.bridgeUrl,
    api: engine.apiUrl,
    streams: engine.streamsUrl,
    console: ready.console,
  }
}

async function slowClientsClosedWithin(
  t: { after(fn: () => unknown): void },
  engine: EngineProcess,
  perPort: number,
  limitMs: number,
): Promise<void> {
  const pid = engine.ready.pid
  const caller = await RawClient.connect(t, engine.bridgeUrl)
  await caller.call('engine.functions.list', {})
  const baseline = openFds(pid)
  const sockets: Socket[] = []
  t.after(() => {
    for (const s of sockets) s.destroy()
  })
  const all: Array<{ port: string; closedAfter: Promise<number> }> = []
  for (const [port, url] of Object.entries(ports(engine))) {
    assert.ok(url, `the engine has a ${port} address`)
    for (let i = 0; i < perPort; i++) {
      const s = slowSocket(url, PARTIALS[i % PARTIALS.length], sockets)
      await s.opened
      all.push({ port, closedAfter: s.closedAfter })
    }
  }
  await held(
    () => openFds(pid) >= baseline + all.length,
    () => `the engine holds the slow sockets: ${openFds(pid)} fds, baseline ${baseline}`,
  )
  // A normal client is served while the slow sockets are open.
  const started = Date.now()
  assert.ok(Array.isArray((await caller.call('engine.functions.list', {})).result.functions))
  const res = await fetch(`${engine.apiUrl}/nothing-here`)
  assert.equal(res.status, 404)
  assert.ok(Date.now() - started < 1000, 'served promptly meanwhile')
  const times = await Promise.all(all.map((s) => s.closedAfter))
  const worst = new Map<string, number>()
  for (const [i, s] of all.entries()) worst.set(s.port, Math.max(worst.get(s.port) ?? 0, times[i]))
  console.log(`worst close times (limit ${limitMs} ms): ${JSON.stringify(Object.fromEntries(worst))}`)
  for (const [port, ms] of worst)
    assert.ok(ms <= limitMs + SLACK_MS, `${port}: a slow socket was closed after ${ms} ms`)
  assert.ok(Math.min(...times) >= limitMs * 0.5, `closed too early (${Math.min(...times)} ms)`)
  await held(
    () => openFds(pid) <= baseline,
    () => `fds ${openFds(pid)} back to baseline ${baseline}`,
  )
}

test('header_timeout_ms: slow sockets on all four ports are closed within it, fds back to baseline', async (t) => {
  const engine = await startEngine(t, {
    config: 'header_timeout_ms: 1500\n',
    args: ['--console', '--console-port', '0'],
  })
  await slowClientsClosedWithin(t, engine, 40, 1500)
})

test('the default: slow sockets are closed within 10 s on every port', async (t) => {
  const engine = await startEngine(t, { args: ['--console', '--console-port', '0'] })
  await slowClientsClosedWithin(t, engine, 8, 10_000)
})
