// Prometheus /metrics through real processes: an engine started with --metrics-port 0, a real
// Node worker (the SDK) taking ok, failing and slow calls, an HTTP route, a stream client and a
// dead-lettered event; the page is scraped over HTTP and read with the reference Prometheus
// text parser (Python's prometheus_client.parser 0.26.0, fixtures/prom_parse.py). Also: off by default (no address, prom-client
// never loaded), bad flag values, and the token off loopback.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Bridge, IIIError } from '@iii-dev/sdk'
import { eventually, repoRoot, startEngine } from '@iii-dev/testkit'
import { RawStreamClient } from './fixtures/streams-helpers.ts'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}
interface Family {
  name: string
  type: string
  samples: Sample[]
}
/** Every sample of the page by sample name (`iii_invocations_total`, `..._bucket`), and the families' types. */
interface Scrape {
  samples: Sample[]
  types: Map<string, string>
}

const python = join(repoRoot, '.venv/bin/python')
const parser = join(repoRoot, 'packages/engine/test/fixtures/prom_parse.py')

function parse(text: string): Scrape {
  const run = spawnSync(python, [parser], { input: text, encoding: 'utf8' })
  assert.equal(run.status, 0, `the Prometheus parser failed: ${run.stderr}`)
  const families = JSON.parse(run.stdout) as Family[]
  return {
    samples: families.flatMap((f) => f.samples),
    types: new Map(families.map((f) => [f.name, f.type])),
  }
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await fetch(url, { headers })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return parse(await res.text())
}

const matching = (m: Scrape, name: string, labels: Record<string, string>) =>
  m.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))

/** The value of the one sample `name` whose labels include `labels`; undefined when none. */
function value(m: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const samples = matching(m, name, labels)
  assert.ok(samples.length <= 1, `${name} ${JSON.stringify(labels)} matches ${samples.length} samples`)
  return samples.length === 0 ? undefined : samples[0].value
}

test('/metrics counts what ran: calls per function and status, durations, workers, in flight, stream clients, dead letters', async (t) => {
  const engine = await startEngine(t, { args: ['--metrics-port', '0'] })
  const url = engine.ready.metrics as string
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
  assert.match(engine.output(), new RegExp(`metrics\\s+${url.replace(/[/.]/g, '\\$&')}`))

  let release: () => void = () => {}
  const worker = new Bridge(engine.bridgeUrl, { logLevel: 'silent', workerName: 'metrics-worker' })
  t.after(() => worker.close())
  worker.registerFunction({ function_path: 'm.ok', handler: async () => ({ ok: true }) })
  worker.registerFunction({
    function_path: 'm.fail',
    handler: async () => {
      throw new IIIError('out_of_tea', 'no tea left')
    },
  })
  worker.registerFunction({
    function_path: 'm.slow',
    handler: () => new Promise((resolve) => (release = () => resolve('done'))),
  })
  worker.registerFunction({
    function_path: 'm.dead',
    handler: async () => {
      throw new Error('dead on arrival')
    },
  })
  worker.registerTrigger({
    trigger_type: 'api',
    function_path: 'm.ok',
    config: { api_path: 'm/ok', http_method: 'GET' },
  })
  worker.registerTrigger({
    trigger_type: 'event',
    function_path: 'm.dead',
    config: { topic: 'm.topic', max_attempts: 1 },
  })
  await worker.connect()

  for (let i = 0; i < 3; i++) assert.deepEqual(await worker.invokeFunction('m.ok', {}), { ok: true })
  for (let i = 0; i < 2; i++) await assert.rejects(worker.invokeFunction('m.fail', {}), /no tea left/)
  await assert.rejects(worker.invokeFunction('nobody.registered.this', {}), /not registered/)
  const http = await eventually(async () => {
    const r = await fetch(`${engine.apiUrl}/m/ok`)
    return r.status === 404 ? undefined : r
  })
  assert.equal(http.status, 200)
  await worker.emit('m.topic', { n: 1 })
  const stream = await RawStreamClient.connect(engine.streamsUrl, t)
  const slow = worker.invokeFunction('m.slow', {})

  const m = await eventually(async () => {
    const got = await scrape(url)
    const ready =
      value(got, 'iii_event_dead_letters', { topic: 'm.topic', function: 'm.dead' }) === 1 &&
      value(got, 'iii_stream_clients') === 1 &&
      matching(got, 'iii_worker_in_flight', {}).some((s) => s.value === 1)
    return ready ? got : undefined
  }, 10_000)

  assert.equal(m.types.get('iii_invocations'), 'counter')
  assert.equal(value(m, 'iii_invocations_total', { function: 'm.ok', status: 'ok' }), 4, '3 direct + 1 HTTP')
  assert.equal(value(m, 'iii_invocations_total', { function: 'm.fail', status: 'out_of_tea' }), 2)
  assert.equal(value(m, 'iii_invocations_total', { function: 'm.fail', status: 'ok' }), undefined)
  assert.equal(value(m, 'iii_invocations_total', { function: '(unknown)', status: 'function_not_found' }), 1)
  assert.equal(value(m, 'iii_invocations_total', { function: 'nobody.registered.this' }), undefined)
  const deadCalls = matching(m, 'iii_invocations_total', { function: 'm.dead' })
  assert.equal(deadCalls.length, 1)
  assert.notEqual(deadCalls[0].labels.status, 'ok')
  assert.equal(deadCalls[0].value, 1, 'one attempt, then the dead letters')
  assert.equal(value(m, 'iii_invocations_total', { function: 'm.slow' }), undefined, 'still running')
  // The engine's read built-ins (engine.*) are left out.
  assert.ok(!matching(m, 'iii_invocations_total', {}).some((s) => s.labels.function.startsWith('engine.')))

  const h = 'iii_invocation_duration_seconds'
  assert.equal(m.types.get(h), 'histogram')
  assert.equal(value(m, `${h}_count`, { function: 'm.ok' }), 4)
  assert.equal(value(m, `${h}_bucket`, { function: 'm.ok', le: '+Inf' }), 4)
  assert.equal(value(m, `${h}_count`, { function: 'm.fail' }), 2)
  const sum = value(m, `${h}_sum`, { function: 'm.ok' }) ?? 0
  assert.ok(sum > 0 && sum < 10, `m.ok took ${sum} s in all`)
  // Cumulative buckets: never decreasing with le.
  const buckets = matching(m, `${h}_bucket`, { function: 'm.ok' }).map((s) => s.value)
  assert.deepEqual(
    buckets,
    [...buckets].sort((a, b) => a - b),
  )

  assert.equal(value(m, 'iii_workers_connected', { runtime: 'node' }), 1)
  assert.equal(value(m, 'iii_worker_in_flight', { worker_name: 'metrics-worker' }), 1, 'm.slow runs')
  assert.equal(value(m, 'iii_stream_clients'), 1)
  assert.equal(value(m, 'iii_event_backlog', { topic: 'm.topic', function: 'm.dead' }), 0)
  assert.equal(value(m, 'iii_event_in_flight', { topic: 'm.topic', function: 'm.dead' }), 0)
  assert.ok((value(m, 'process_resident_memory_bytes') ?? 0) > 0, 'prom-client default metrics')

  release()
  assert.equal(await slow, 'done')
  stream.ws.close()
  const after = await eventually(async () => {
    const got = await scrape(url)
    return value(got, 'iii_stream_clients') === 0 ? got : undefined
  })
  assert.equal(value(after, 'iii_invocations_total', { function: 'm.slow', status: 'ok' }), 1)
  assert.equal(value(after, 'iii_worker_in_flight', { worker_name: 'metrics-worker' }), 0)

  const other = await fetch(url.replace('/metrics', '/nope'))
  assert.equal(other.status, 404)
  assert.equal(((await other.json()) as any).error.code, 'not_found')
  const post = await fetch(url, { method: 'POST' })
  assert.equal(post.status, 405)
})

test('metrics are off by default: no address, and prom-client is never loaded (it is with --metrics-port)', async (t) => {
  const preload = join(repoRoot, 'packages/engine/test/fixtures/loaded-modules.cjs')
  const dir = mkdtempSync(join(tmpdir(), 'iii-metrics-'))
  const loaded = async (args: string[], name: string) => {
    const file = join(dir, name)
    const engine = await startEngine(t, {
      args,
      env: { NODE_OPTIONS: `--require ${preload}`, III_TEST_LOADED_FILE: file },
    })
    const ready = engine.ready
    const code = await engine.stop()
    assert.equal(code, 0, `exit ${code} ${engine.proc.signalCode}: ${engine.output()}`)
    return { ready, files: readFileSync(file, 'utf8').split('\n') }
  }
  const off = await loaded([], 'off.txt')
  assert.equal(off.ready.metrics, undefined)
  assert.ok(off.files.length > 0)
  assert.ok(!off.files.some((f) => f.includes('/prom-client/')), 'prom-client loaded with metrics off')
  const on = await loaded(['--metrics-port', '0'], 'on.txt')
  assert.match(String(on.ready.metrics), /\/metrics$/)
  assert.ok(
    on.files.some((f) => f.includes('/prom-client/')),
    'the check sees prom-client when metrics are on',
  )
})

test('a bad --metrics-port or metrics: config is a clear error; off loopback a token is required', async (t) => {
  await assert.rejects(
    startEngine(t, { args: ['--metrics-port', 'lots'] }),
    /--metrics-port must be a whole number from 0 to 65535, not "lots"/,
  )
  await assert.rejects(startEngine(t, { config: 'metrics: {port: 99999}\n' }), /metrics/)
  await assert.rejects(
    startEngine(t, { config: 'metrics: {host: 0.0.0.0, port: 0}\n' }),
    /metrics: refusing to listen on 0\.0\.0\.0 without a token/,
  )
  const engine = await startEngine(t, {
    config: 'metrics:\n  port: 0\n  token: ${METRICS_TOKEN}\n',
    env: { METRICS_TOKEN: 'scrape-me' },
  })
  const url = engine.ready.metrics as string
  const none = await fetch(url)
  assert.equal(none.status, 401)
  assert.equal(((await none.json()) as any).error.code, 'unauthorized')
  assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status, 401)
  const m = await scrape(url, { authorization: 'Bearer scrape-me' })
  assert.equal(m.types.get('iii_workers_connected'), 'gauge')
})
