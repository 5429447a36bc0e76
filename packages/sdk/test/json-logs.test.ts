/**
 * `III_LOG_FORMAT=json` through real processes: a worker (its own process) logs the `json_logs`
 * cases of protocol/sdk-cases.json from a handler called over HTTP with a traceparent; every
 * line it prints is parsed as JSON and checked for the shared fields, the call's trace, span,
 * function and worker, and redaction. The same cases drive python/iii/tests/test_json_logs.py.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, repoRoot, startEngine, startWorker } from '@iii-dev/testkit'
import { Bridge, IIIError } from '../src/index.ts'
import { connectBridge, fetchRouted, waitForFunctions } from './helpers.ts'

const spec = JSON.parse(readFileSync(join(repoRoot, 'protocol/sdk-cases.json'), 'utf8')).json_logs as {
  env: string
  fields: string[]
  cases: Array<{ name: string; level: string; message: string; expect: Record<string, unknown> }>
}

test('III_LOG_FORMAT=json: every line is one JSON object with trace, span, function and worker; secrets redacted', async (t) => {
  const engine = await startEngine(t)
  const worker = startWorker(t, join(repoRoot, 'packages/sdk/test/fixtures/json-log-worker.ts'), {
    III_BRIDGE_URL: engine.bridgeUrl,
    III_WORKER_NAME: 'json-logger',
    [spec.env]: 'json',
  })
  await worker.waitFor('json log worker ready')
  const bridge = await connectBridge(t, engine.bridgeUrl)
  await waitForFunctions(bridge, 'jl.cases')
  const workers = (await bridge.invokeFunction('engine.workers.list', {})) as { workers: any[] }
  const id = workers.workers.find((w) => w.name === 'json-logger')?.id
  assert.match(String(id), /^w-\d+$/)

  const traceId = '0af7651916cd43dd8448eb211c80319c'
  const spanId = 'b7ad6b7169203331'
  const res = await fetchRouted(`${engine.apiUrl}/jl`, {
    method: 'POST',
    headers: { traceparent: `00-${traceId}-${spanId}-01`, 'content-type': 'application/json' },
    body: '{}',
  })
  assert.equal(res.status, 200)
  const lines = await eventually(() => {
    const all = worker
      .output()
      .split('\n')
      .filter((l) => l !== '' && l !== 'json log worker ready')
    return all.length >= spec.cases.length ? all : undefined
  })
  const parsed = lines.map((l) => {
    assert.doesNotThrow(() => JSON.parse(l), `not one JSON object: ${l}`)
    return JSON.parse(l) as Record<string, unknown>
  })
  const mine = parsed.filter((l) => l.function_path === 'jl.cases')
  assert.equal(mine.length, spec.cases.length, JSON.stringify(parsed))
  spec.cases.forEach((c, i) => {
    const line = mine[i]
    for (const f of spec.fields) assert.ok(f in line, `${c.name}: no ${f} in ${JSON.stringify(line)}`)
    assert.ok(!Number.isNaN(Date.parse(String(line.time))), `${c.name}: time ${line.time}`)
    assert.equal(line.trace_id, traceId, c.name)
    assert.equal(line.span_id, spanId, `${c.name}: the span of the call's traceparent`)
    assert.equal(line.worker_id, id, c.name)
    assert.equal(line.worker_name, 'json-logger', c.name)
    assert.equal(line.source, 'worker', c.name)
    for (const [k, v] of Object.entries(c.expect)) assert.deepEqual(line[k], v, `${c.name}: ${k}`)
  })
  assert.ok(!worker.output().includes('s3cret'), 'a secret reached the output')
  assert.ok(!worker.output().includes('forged'), 'a data field replaced trace_id')
})

test('logFormat: a bad value is invalid_argument; text stays the default', async () => {
  assert.equal(process.env.III_LOG_FORMAT, undefined)
  const text = new Bridge({ shutdownOnSignal: false })
  const json = new Bridge({ logFormat: 'json', shutdownOnSignal: false })
  assert.equal(text.logger.format, 'text')
  assert.equal(json.logger.format, 'json')
  await text.close()
  await json.close()
  assert.throws(
    () => new Bridge({ logFormat: 'yaml' as never }),
    (err: unknown) =>
      err instanceof IIIError && err.code === 'invalid_argument' && /logFormat must be text or json/.test(err.message),
  )
})
