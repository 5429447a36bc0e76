/**
 * HTTP abuse on one connection (attack findings): a valid request followed by garbage, more
 * body bytes than `content-length`, a body that stalls, broken chunked framing, an unknown
 * `Expect`, CONNECT (the last three found by http-fuzz.test.ts). Each gets its answer (the
 * valid request's response, or a JSON error) and then a clean close; the engine keeps serving
 * others.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { type EngineProcess, eventually, startEngine } from '@iii-dev/testkit'
import { RawClient } from './raw.ts'

/** Writes `data` on a raw socket; resolves with everything the server sent before it closed. */
function exchange(url: string, data: string, limitMs = 5000): Promise<{ text: string; ms: number; closed: boolean }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const s = connect(Number(port), hostname)
    const at = Date.now()
    let text = ''
    const timer = setTimeout(() => {
      s.destroy()
      resolve({ text, ms: Date.now() - at, closed: false })
    }, limitMs)
    s.setEncoding('utf8')
    s.on('data', (d: string) => {
      text += d
    })
    s.on('error', () => {})
    s.on('close', () => {
      clearTimeout(timer)
      resolve({ text, ms: Date.now() - at, closed: true })
    })
    s.write(data)
  })
}

/** The status lines in a raw response stream, in order. */
const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))

async function echoEngine(t: { after(fn: () => unknown): void }): Promise<{ engine: EngineProcess; calls: unknown[] }> {
  const engine = await startEngine(t, {
    config: 'header_timeout_ms: 1000\nmodules:\n  api:\n    request_timeout_ms: 1500\n',
  })
  const worker = await RawClient.connect(t, engine.bridgeUrl)
  const calls: unknown[] = []
  worker.register('h.echo', async (data) => {
    calls.push(data.body)
    await new Promise((r) => setTimeout(r, 50))
    return { status: 200, body: { got: data.body } }
  })
  worker.send({
    type: 'registertrigger',
    id: 'echo',
    trigger_type: 'api',
    function_path: 'h.echo',
    config: { api_path: '/echo', http_method: 'POST' },
  })
  await eventually(async () => (await fetch(`${engine.apiUrl}/echo`, { method: 'POST' })).status === 200)
  calls.length = 0
  return { engine, calls }
}

const post = (body: string, length = Buffer.byteLength(body)) =>
  `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${body}`

async function stillServes(engine: EngineProcess): Promise<void> {
  const res = await fetch(`${engine.apiUrl}/echo`, {
    method: 'POST',
    body: '{"n":1}',
    headers: { 'content-type': 'application/json' },
  })
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { got: { n: 1 } })
  assert.equal(engine.proc.exitCode, null, 'the engine is up')
}

test('a valid request followed by garbage: the handler runs once, its answer arrives, then the socket closes', async (t) => {
  const { engine, calls } = await echoEngine(t)
  const r = await exchange(engine.apiUrl, `${post('{"a":1}')}\u0001\u0002 garbage \r\n\r\n`)
  assert.ok(r.closed, 'closed by the server')
  assert.deepEqual(statuses(r.text), [200], r.text)
  assert.ok(r.text.endsWith('{"got":{"a":1}}'), r.text)
  assert.deepEqual(calls, [{ a: 1 }])
  await stillServes(engine)
})

test('more body bytes than content-length: the declared body is answered once, then the socket closes', async (t) => {
  const { engine, calls } = await echoEngine(t)
  const r = await exchange(engine.apiUrl, post('{"a":2}XXXXXXXXXXXXXXXX', 7))
  assert.ok(r.closed)
  assert.deepEqual(statuses(r.text), [200], r.text)
  assert.ok(r.text.endsWith('{"got":{"a":2}}'), r.text)
  assert.deepEqual(calls, [{ a: 2 }])
  await stillServes(engine)
})

test('garbage after a finished keep-alive exchange gets a coded error (501, as an unknown method) and a close', async (t) => {
  const { engine, calls } = await echoEngine(t)
  const { hostname, port } = new URL(engine.apiUrl)
  const s = connect(Number(port), hostname)
  t.after(() => s.destroy())
  let text = ''
  s.setEncoding('utf8')
  s.on('data', (d: string) => {
    text += d
  })
  const closed = new Promise<void>((resolve) => s.on('close', () => resolve()))
  s.write(post('{"a":3}'))
  await eventually(() => text.includes('{"got":{"a":3}}'), 3000)
  s.write('\u0000\u0000 not http\r\n\r\n')
  await closed
  assert.deepEqual(statuses(text), [200, 501], text)
  assert.ok(text.includes('"error":"method_not_implemented"'), text)
  assert.deepEqual(calls, [{ a: 3 }])
  await stillServes(engine)
})

test('a body that stalls gets 408 request_timeout within request_timeout_ms; the handler never runs', async (t) => {
  const { engine, calls } = await echoEngine(t)
  const stalled = exchange(engine.apiUrl, post('{"a":', 20))
  await stillServes(engine)
  calls.length = 0
  const r = await stalled
  assert.ok(r.closed, 'closed by the server')
  assert.deepEqual(statuses(r.text), [408], r.text)
  assert.ok(r.text.includes('"error":"request_timeout"'), r.text)
  assert.ok(r.ms >= 1000 && r.ms <= 2000, `answered after ${r.ms} ms (request_timeout_ms 1500)`)
  await new Promise((res) => setTimeout(res, 200))
  assert.deepEqual(calls, [], 'the handler never ran')
})

test('broken chunked framing in the body of a matched route: 400 bad_request and a close, not a socket left open', async (t) => {
  const { engine, calls } = await echoEngine(t)
  const r = await exchange(
    engine.apiUrl,
    'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n3zz\r\n[1]\r\nq\r\n',
  )
  assert.ok(r.closed, 'closed by the server')
  assert.ok(r.ms < 1000, `answered after ${r.ms} ms`)
  assert.deepEqual(statuses(r.text), [400], r.text)
  assert.ok(r.text.includes('"error":"bad_request"'), r.text)
  assert.deepEqual(calls, [], 'the handler never ran')
  await stillServes(engine)
})

test('an Expect other than 100-continue gets 417 expectation_failed as JSON', async (t) => {
  const { engine, calls } = await echoEngine(t)
  const r = await exchange(
    engine.apiUrl,
    'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}',
  )
  assert.deepEqual(statuses(r.text), [417], r.text)
  assert.ok(r.text.includes('"error":"expectation_failed"'), r.text)
  assert.ok(r.closed, 'closed by the server')
  assert.deepEqual(calls, [])
  await stillServes(engine)
})

test('CONNECT gets 501 method_not_implemented as JSON, then a close (node alone drops it without a word)', async (t) => {
  const { engine } = await echoEngine(t)
  const r = await exchange(engine.apiUrl, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
  assert.ok(r.closed, 'closed by the server')
  assert.deepEqual(statuses(r.text), [501], r.text)
  assert.ok(r.text.includes('"error":"method_not_implemented"'), r.text)
  await stillServes(engine)
})
