// Spans, the span and log rings and OTLP export, through real processes: an engine with
// tracing on, a Node worker (api trigger, event subscriber) and a Python worker, a request with
// a W3C traceparent, and a local OTLP/HTTP receiver (node:http) decoding what the exporter sends.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { Bridge } from '@iii-dev/sdk'
import { eventually, repoRoot, startEngine, startWorker } from '@iii-dev/testkit'

const fixtures = join(repoRoot, 'packages/engine/test/fixtures')

/** A local OTLP/HTTP receiver: collects the JSON bodies POSTed to /v1/traces. */
async function otlpReceiver(t: { after(fn: () => unknown): void }) {
  const bodies: any[] = []
  const server = createServer((req, res) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (d) => (text += d))
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.method === 'POST') bodies.push(JSON.parse(text))
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => {
    server.closeAllConnections()
    return new Promise((r) => server.close(r))
  })
  const spans = () =>
    bodies.flatMap((b) => b.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans)))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, spans }
}

test('a request through a Node and a Python worker is one trace: spans, links, logs, OTLP export', async (t) => {
  const otlp = await otlpReceiver(t)
  const engine = await startEngine(t, {
    args: ['--tracing'],
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_SERVICE_NAME: 'iii-test' },
  })
  const env = { III_BRIDGE_URL: engine.bridgeUrl }
  await startWorker(t, join(fixtures, 'trace_py_worker.py'), env).waitFor('trace python worker ready')
  await startWorker(t, join(fixtures, 'trace-node-worker.mjs'), env).waitFor('trace node worker ready')
  const client = new Bridge(engine.bridgeUrl, { logLevel: 'silent' })
  t.after(() => client.close())
  await client.connect()

  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
  const callerSpan = '00f067aa0ba902b7'
  const res = await eventually(async () => {
    const r = await fetch(`${engine.apiUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ item: 'tea' }),
    })
    return r.status === 404 ? undefined : r
  })
  assert.equal(res.status, 201)
  assert.deepEqual(await res.json(), { price: 42 })

  // The retried delivery ends a moment later: wait for both attempts' spans.
  const trace = await eventually(async () => {
    const got = await client.invokeFunction('traces.get', { trace_id: traceId })
    return got.spans.filter((s: any) => s.name === 'orders.notify').length === 2 ? got : undefined
  }, 10_000)
  const byName = (name: string) => trace.spans.filter((s: any) => s.name === name)
  const [root] = byName('orders.create')
  assert.equal(root.trace_id, traceId)
  assert.equal(root.parent_span_id, callerSpan, 'child of the incoming traceparent')
  assert.equal(root.kind, 'server')
  assert.equal(root.status, 'ok')
  assert.equal(root.attributes['iii.function_path'], 'orders.create')
  assert.equal(root.attributes['iii.trigger.type'], 'api')
  assert.equal(typeof root.attributes['iii.trigger.id'], 'string')
  assert.equal(root.attributes['iii.worker.runtime'], 'node')
  assert.match(String(root.attributes['iii.worker.id']), /^w-\d+$/)
  assert.equal(root.attributes['iii.attempt'], 1)
  assert.ok(root.duration_ms > 0 && root.start_ms > Date.now() - 60_000)

  const [price] = byName('py.price')
  assert.equal(price.parent_span_id, root.span_id, 'the Python call is a child of the Node handler')
  assert.equal(price.kind, 'internal')
  assert.equal(price.attributes['iii.trigger.type'], 'direct')
  assert.equal(price.attributes['iii.worker.runtime'], 'python')
  assert.notEqual(price.attributes['iii.worker.id'], root.attributes['iii.worker.id'])
  const [tax] = byName('py.tax')
  assert.equal(tax.parent_span_id, price.span_id, "a call a Python handler makes is a child of that handler's span")

  const [emit] = byName('emit')
  assert.equal(emit.parent_span_id, root.span_id)
  assert.equal(emit.attributes['iii.worker.id'], 'engine')
  const deliveries = byName('orders.notify').sort(
    (a: any, b: any) => a.attributes['iii.attempt'] - b.attributes['iii.attempt'],
  )
  assert.deepEqual(
    deliveries.map((d: any) => [d.kind, d.attributes['iii.attempt'], d.status, d.error_code]),
    [
      ['consumer', 1, 'error', 'invocation_failed'],
      ['consumer', 2, 'ok', undefined],
    ],
  )
  for (const d of deliveries) {
    assert.equal(d.attributes['iii.trigger.type'], 'event')
    assert.equal(d.attributes['iii.event.topic'], 'order.created')
    assert.deepEqual(d.links, [{ trace_id: traceId, span_id: emit.span_id }], 'each attempt links to the emitting span')
  }

  const listed = await client.invokeFunction('traces.list', { function_path: 'orders.create' })
  assert.equal(listed.enabled, true)
  const row = listed.traces.find((r: any) => r.trace_id === traceId)
  assert.deepEqual(
    { ...row, started_at_ms: 0, duration_ms: 0 },
    {
      trace_id: traceId,
      name: 'orders.create',
      function_path: 'orders.create',
      trigger_type: 'api',
      started_at_ms: 0,
      duration_ms: 0,
      span_count: trace.spans.length,
      status: 'ok',
    },
  )
  // orders.create, py.price, py.tax, emit, two deliveries: logger.* and the engine's read built-ins
  // (the console's traces.* calls) are not traced.
  assert.deepEqual(trace.spans.map((s: any) => s.name).sort(), [
    'emit',
    'orders.create',
    'orders.notify',
    'orders.notify',
    'py.price',
    'py.tax',
  ])

  // A failing Python call: the error code is the span's status, and the trace lists as an error.
  const bad = await fetch(`${engine.apiUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ item: 'none' }),
  })
  assert.ok(bad.status >= 400, String(bad.status))
  const errors = await eventually(async () => {
    const l = await client.invokeFunction('traces.list', { status: 'error' })
    return l.traces.length > 0 ? l.traces : undefined
  })
  assert.equal(errors[0].function_path, 'orders.create')
  assert.equal(errors[0].status, 'error')
  const failed = await client.invokeFunction('traces.get', { trace_id: errors[0].trace_id })
  const pySpan = failed.spans.find((s: any) => s.name === 'py.price')
  assert.equal(pySpan.status, 'error')
  assert.equal(pySpan.error_code, 'invalid_argument')

  // The log line carries the trace and span it was written in, with its secret redacted.
  const logs = await client.invokeFunction('logs.list', { trace_id: traceId })
  const line = logs.logs.find((l: any) => l.message === 'order priced')
  assert.ok(line, JSON.stringify(logs))
  assert.equal(line.span_id, root.span_id)
  assert.equal(line.function_path, 'orders.create')
  assert.match(line.worker_id, /^w-\d+$/)
  assert.deepEqual(line.data, { price: 42, api_key: '[redacted]' })
  assert.equal(typeof line.time_ms, 'number')
  // The Python worker's line carries the span of the call it was written in, as Node's does.
  const pyLine = logs.logs.find((l: any) => l.message === 'py priced')
  assert.ok(pyLine, JSON.stringify(logs))
  assert.equal(pyLine.span_id, price.span_id)
  assert.equal(pyLine.function_path, 'py.price')
  assert.deepEqual(pyLine.data, { tax: 2 })

  // Bad input gets a coded error.
  await assert.rejects(client.invokeFunction('traces.get', {}), { code: 'invalid_argument' })
  await assert.rejects(client.invokeFunction('traces.list', { status: 'maybe' }), { code: 'invalid_argument' })

  // OTLP/HTTP export reached the receiver: the same spans, as OTLP JSON.
  const exported = await eventually(() => {
    const s = otlp.spans().filter((x: any) => x.traceId === traceId)
    return s.length >= trace.spans.length ? s : undefined
  }, 10_000)
  const names = new Set(exported.map((s: any) => s.name))
  for (const n of ['orders.create', 'py.price', 'emit', 'orders.notify']) assert.ok(names.has(n), n)
  const rootOut = exported.find((s: any) => s.name === 'orders.create')
  assert.equal(rootOut.spanId, root.span_id)
  assert.equal(rootOut.parentSpanId, callerSpan)
  assert.equal(rootOut.kind, 2, 'SPAN_KIND_SERVER')
  const attr = (s: any, k: string) => s.attributes.find((a: any) => a.key === k)?.value
  assert.deepEqual(attr(rootOut, 'iii.function_path'), { stringValue: 'orders.create' })
  const service = otlp.bodies[0].resourceSpans[0].resource.attributes.find((a: any) => a.key === 'service.name')
  assert.deepEqual(service.value, { stringValue: 'iii-test' })
})

test('tracing off: no spans, traces.list says so; logs.list still holds the log lines', async (t) => {
  const engine = await startEngine(t)
  const client = new Bridge(engine.bridgeUrl, { logLevel: 'silent' })
  t.after(() => client.close())
  await client.connect()
  await client.invokeFunction('logger.warn', { message: 'hello ring', data: { password: 'x', n: 1 } })
  const listed = await client.invokeFunction('traces.list', {})
  assert.deepEqual(listed, { enabled: false, traces: [] })
  const logs = await client.invokeFunction('logs.list', { level: 'warn' })
  assert.equal(logs.logs[0].message, 'hello ring')
  assert.deepEqual(logs.logs[0].data, { password: '[redacted]', n: 1 })
  await assert.rejects(client.invokeFunction('logs.list', { limit: -1 }), { code: 'invalid_argument' })
})
