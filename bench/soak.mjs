// Soak (RELIABILITY.md R22): `npm run soak -- --minutes N`.
//
// One engine (default config: SQLite store, durable events; /metrics on) under mixed open-loop
// load for N minutes while workers churn:
//   - invoke: `soak.echo` (Node workers) and `soak.py.echo` (a Python worker), checked for an
//     exact echo;
//   - HTTP: POST /soak/orders -> state.set + a durable `emit` -> a Node and a Python subscriber,
//     each marking the order delivered in state; every order answered 201 (acknowledged) must
//     reach both, and is then deleted again, so state stays bounded;
//   - state: set/get/update on 500 keys;
//   - streams: each delivery sets an item of stream `soak`; 4 stream-socket clients watch the
//     group, one of them reconnecting every 30 s;
//   - churn: two of the three Node workers are stopped in turn (SIGTERM, then SIGKILL next time)
//     and started again, every 20 s.
// Every few seconds it samples the engine: RSS (anonymous and file-backed), V8 heap, open file
// descriptors and event-loop lag (p99, from /metrics). The report (JSON + Markdown) goes to
// bench/results/ (bench/results/tmp/ for runs under 10 minutes) and says: RSS growth after the
// warm-up (median of the first minute after it against the median of the last minute; target
// < 10%), open fds at both ends, errors by code (the only expected one is `invocation_stopped`
// / HTTP 503 from a worker killed mid-call) and anything acknowledged but lost or wrong.
// Exit 1 when something was lost, wrong, unexpected or the engine died.
// Options: --minutes N (default 10)  --warmup M (minutes; default min(5, N/4))  --name NAME
//          --out DIR  --sample S (seconds; default 5, 2 under 10 minutes)
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createBridge } from '@iii-dev/sdk'
import { WebSocket } from 'ws'
import { fmt, machineFacts, memoryKb, root, startEngine, startProcess, stopAll } from './lib.mjs'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    warmup: { type: 'string' },
    name: { type: 'string' },
    out: { type: 'string' },
    sample: { type: 'string' },
  },
})
const minutes = Number(values.minutes)
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number (got ${values.minutes})`)
const warmupMin = values.warmup === undefined ? Math.min(5, minutes / 4) : Number(values.warmup)
const name = values.name ?? `soak-${minutes}min`
const outDir = values.out ?? join(root, minutes >= 10 ? 'bench/results' : 'bench/results/tmp')
const sampleMs = 1000 * Number(values.sample ?? (minutes >= 10 ? 5 : 2))
const durationMs = minutes * 60_000
const CHURN_MS = 20_000
const STREAM_CLIENTS = 4
const KEYS = 500
// Operations per 100 ms tick, and how many of each kind may be unanswered before a tick skips it.
const RATE = { invoke: 20, pyInvoke: 5, http: 5, state: 10 }
const MAX_IN_FLIGHT = 64

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const now = () => Date.now()

// ----- processes ---------------------------------------------------------------------------
const dataDir = join(root, `bench/results/tmp/data-soak-${process.pid}`)
rmSync(dataDir, { recursive: true, force: true })
const engine = await startEngine({ dataDir, args: ['--metrics-port', '0'] })
const metricsUrl = engine.output().match(/^\s+metrics\s+(\S+)$/m)?.[1] ?? ''
if (!metricsUrl.startsWith('http')) throw new Error(`no metrics address in the engine's output:\n${engine.output()}`)
let engineExit = null
engine.proc.on('exit', (code, signal) => (engineExit = { code, signal }))

const workerScript = join(root, 'bench/servers/soak-worker.mjs')
const workerEnv = { III_BRIDGE_URL: engine.bridgeUrl }
// The steady worker lives for the whole run (stopAll below ends it).
await startProcess(workerScript, [], { env: { ...workerEnv, ROLE: 'steady' } })
const churners = await Promise.all(
  [0, 1].map(() => startProcess(workerScript, [], { env: { ...workerEnv, ROLE: 'churn' } })),
)
const python = await startPython()

function startPython() {
  const proc = spawn(join(root, '.venv/bin/python'), [join(root, 'bench/servers/soak_worker.py')], {
    env: { ...process.env, ...workerEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  proc.stdout.on('data', (d) => (out += d))
  proc.stderr.on('data', (d) => (out += d))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`python soak worker not ready:\n${out}`)), 30_000)
    proc.stdout.on('data', () => {
      if (out.includes('ready')) {
        clearTimeout(timer)
        resolve({ proc, output: () => out })
      }
    })
    proc.on('exit', (code) => reject(new Error(`python soak worker exited with ${code}:\n${out}`)))
  })
}

const client = createBridge({ url: engine.bridgeUrl, workerName: 'soak-load', forwardLogs: false, logLevel: 'warn' })
await client.connect()
for (;;) {
  const { subscriptions } = await client.invokeFunction('events.stats', {})
  if (subscriptions.filter((s) => s.topic === 'soak.order').length >= 2) break
  await sleep(50)
}

// ----- counters ------------------------------------------------------------------------------
const counts = { invoke: 0, pyInvoke: 0, http: 0, state: 0, skipped: 0 }
const errors = {} // "kind code" -> count
const EXPECTED = new Set(['invocation_stopped', '503 invocation_stopped'])
let wrong = 0
const wrongSamples = []
const inFlight = { invoke: 0, pyInvoke: 0, http: 0, state: 0 }
const orders = new Map() // id -> acknowledged at (ms)
const verifying = new Set()
let verified = 0
const lost = []
let nextOrder = 0
const run = now().toString(36)

const fail = (kind, err) => {
  const key = `${kind} ${err?.code ?? err?.message ?? String(err)}`
  errors[key] = (errors[key] ?? 0) + 1
}

/** Runs one operation of `kind` unless MAX_IN_FLIGHT of that kind are unanswered already. */
function launch(kind, op) {
  if (inFlight[kind] >= MAX_IN_FLIGHT) {
    counts.skipped++
    return
  }
  inFlight[kind]++
  op()
    .then(() => counts[kind]++)
    .catch((err) => fail(kind, err))
    .finally(() => inFlight[kind]--)
}

let seq = 0
const pad = 'x'.repeat(200)
async function echo(path) {
  const data = { n: seq++, pad }
  const got = await client.invokeFunction(path, data)
  if (got?.n !== data.n || got?.pad !== pad) {
    wrong++
    if (wrongSamples.length < 5) wrongSamples.push({ path, sent: data.n, got })
  }
}

async function order() {
  const id = `${run}-${(nextOrder++).toString(36).padStart(6, '0')}`
  const res = await fetch(`${engine.apiUrl}/soak/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, total: 5 }),
  })
  const body = await res.json().catch(() => null)
  if (res.status === 201 && body?.id === id) {
    orders.set(id, now())
    return
  }
  throw { code: `${res.status} ${body?.code ?? body?.error ?? ''}`.trim() }
}

async function stateOp() {
  const item_id = `k${seq++ % KEYS}`
  const pick = seq % 3
  if (pick === 0) await client.invokeFunction('state.set', { group_id: 'soak-kv', item_id, data: { at: now(), pad } })
  else if (pick === 1) await client.invokeFunction('state.get', { group_id: 'soak-kv', item_id })
  else
    await client.invokeFunction('state.update', {
      group_id: 'soak-kv',
      item_id,
      ops: [{ type: 'increment', path: 'n', by: 1 }],
    })
}

/** Checks acknowledged orders older than 5 s: delivered to both subscribers (then removed), or lost after 120 s. */
async function verifyOrders(minAgeMs = 5000) {
  const t = now()
  const due = [...orders].filter(([id, at]) => t - at >= minAgeMs && !verifying.has(id))
  await Promise.all(
    due.map(async ([id, at]) => {
      verifying.add(id)
      try {
        const [node, py] = await Promise.all([
          client.invokeFunction('state.get', { group_id: 'soak-delivered', item_id: id }),
          client.invokeFunction('state.get', { group_id: 'soak-py-delivered', item_id: id }),
        ])
        if (node !== null && py !== null) {
          orders.delete(id)
          verified++
          await Promise.all(
            ['soak-orders', 'soak-delivered', 'soak-py-delivered'].map((group_id) =>
              client.invokeFunction('state.delete', { group_id, item_id: id }),
            ),
          )
        } else if (t - at > 120_000) {
          orders.delete(id)
          lost.push({ id, node: node !== null, python: py !== null })
        }
      } catch (err) {
        fail('verify', err)
      } finally {
        verifying.delete(id)
      }
    }),
  )
}

// ----- stream clients --------------------------------------------------------------------
let pushes = 0
const streamClients = []
function streamClient() {
  const ws = new WebSocket(engine.streamsUrl)
  ws.on('open', () =>
    ws.send(JSON.stringify({ type: 'join', data: { subscriptionId: 's', streamName: 'soak', groupId: 'orders' } })),
  )
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString())
    if (m.event?.type === 'create' || m.event?.type === 'update') pushes++
  })
  ws.on('error', (err) => fail('stream', err))
  return ws
}
for (let i = 0; i < STREAM_CLIENTS; i++) streamClients.push(streamClient())

// ----- sampling ------------------------------------------------------------------------------
const samples = []
const t0 = now()
function metric(text, name) {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)
  return m ? Number(m[1]) : null
}
async function sample() {
  const text = await fetch(metricsUrl).then((r) => r.text())
  const mem = memoryKb(engine.pid)
  samples.push({
    t_s: Math.round((now() - t0) / 1000),
    rss_mb: mem.rss / 1024,
    anon_mb: mem.anon / 1024,
    file_mb: mem.file / 1024,
    heap_mb: metric(text, 'nodejs_heap_size_used_bytes') / 2 ** 20,
    fds: readdirSync(`/proc/${engine.pid}/fd`).length,
    lag_p99_ms: metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    ops: counts.invoke + counts.pyInvoke + counts.http + counts.state,
    pending_orders: orders.size,
  })
}

// ----- churn ---------------------------------------------------------------------------------
const churnLog = { sigterm: 0, sigkill: 0 }
let churnTurn = 0
async function churn() {
  const i = churnTurn % churners.length
  const signal = churnTurn % 4 < 2 ? 'SIGTERM' : 'SIGKILL'
  churnTurn++
  const { proc } = churners[i]
  const exited = new Promise((r) => proc.once('exit', r))
  proc.kill(signal)
  await exited
  churnLog[signal.toLowerCase()]++
  churners[i] = await startProcess(workerScript, [], { env: { ...workerEnv, ROLE: 'churn' } })
}

// ----- the run ------------------------------------------------------------------------------
console.error(`soak: ${minutes} min (warm-up ${warmupMin} min), engine pid ${engine.pid}, metrics ${metricsUrl}`)
let stopping = false
const tick = setInterval(() => {
  if (stopping) return
  for (let i = 0; i < RATE.invoke; i++) launch('invoke', () => echo('soak.echo'))
  for (let i = 0; i < RATE.pyInvoke; i++) launch('pyInvoke', () => echo('soak.py.echo'))
  for (let i = 0; i < RATE.http; i++) launch('http', order)
  for (let i = 0; i < RATE.state; i++) launch('state', stateOp)
}, 100)
const background = []
const every = (ms, fn) => {
  let busy = false
  background.push(
    setInterval(async () => {
      if (busy || stopping) return
      busy = true
      try {
        await fn()
      } catch (err) {
        fail('harness', err)
      } finally {
        busy = false
      }
    }, ms),
  )
}
every(sampleMs, sample)
every(2000, verifyOrders)
every(CHURN_MS, churn)
every(30_000, async () => {
  const old = streamClients.shift()
  old.terminate()
  streamClients.push(streamClient())
})
let lastReport = 0
while (now() - t0 < durationMs && engineExit === null) {
  await sleep(500)
  if (now() - lastReport >= 60_000) {
    lastReport = now()
    const s = samples.at(-1)
    if (s)
      console.error(
        `  ${fmt(s.t_s / 60, 1)} min: rss ${fmt(s.rss_mb, 1)} MB (anon ${fmt(s.anon_mb, 1)}), heap ${fmt(s.heap_mb, 1)} MB, fds ${s.fds}, lag p99 ${fmt(s.lag_p99_ms, 1)} ms, ops ${s.ops}`,
      )
  }
}

// ----- drain and check --------------------------------------------------------------------
stopping = true
clearInterval(tick)
for (const t of background) clearInterval(t)
await sleep(1000) // let a running sample/churn finish
if (engineExit === null) {
  const drainUntil = now() + 60_000
  while (orders.size > 0 && now() < drainUntil && engineExit === null) {
    await verifyOrders(0)
    if (orders.size > 0) await sleep(1000)
  }
}
for (const [id] of orders)
  lost.push({ id, node: false, python: false, note: 'not delivered 60 s after the load stopped' })
let deadLetters = null
if (engineExit === null) {
  deadLetters = (await client.invokeFunction('events.deadLetters.list', { topic: 'soak.order', limit: 1000 })).items
}
await client.close()
for (const ws of streamClients) ws.terminate()
python.proc.kill('SIGTERM')
stopAll()

// ----- report -------------------------------------------------------------------------------
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const warmS = warmupMin * 60
const afterWarm = samples.filter((s) => s.t_s >= warmS)
const firstMin = afterWarm.filter((s) => s.t_s < warmS + 60)
const lastS = samples.at(-1)?.t_s ?? 0
const lastMin = samples.filter((s) => s.t_s > lastS - 60 && s.t_s >= warmS)
const growth = (key) => {
  const a = median(firstMin.map((s) => s[key]))
  const b = median(lastMin.map((s) => s[key]))
  return a && b ? { start: a, end: b, growth_pct: ((b - a) / a) * 100 } : null
}
const rss = growth('rss_mb')
const summary = {
  minutes,
  warmup_minutes: warmupMin,
  engine_exit: engineExit,
  operations: { ...counts },
  orders_acknowledged: verified + lost.length,
  orders_verified: verified,
  lost: lost.length,
  wrong,
  dead_letters: deadLetters?.length ?? null,
  stream_pushes: pushes,
  churn: churnLog,
  errors,
  rss_mb: rss,
  anon_mb: growth('anon_mb'),
  heap_mb: growth('heap_mb'),
  fds: { start: median(firstMin.map((s) => s.fds)), end: median(lastMin.map((s) => s.fds)) },
  max_fds: Math.max(...samples.map((s) => s.fds)),
  lag_p99_ms_max: Math.max(...samples.map((s) => s.lag_p99_ms)),
}
const unexpected = Object.entries(errors).filter(
  ([k]) => !EXPECTED.has(k.replace(/^(invoke|pyInvoke|state|http) /, '')),
)
const failures = []
if (engineExit !== null) failures.push(`the engine exited during the soak: ${JSON.stringify(engineExit)}`)
if (lost.length > 0) failures.push(`${lost.length} acknowledged orders lost, e.g. ${JSON.stringify(lost.slice(0, 3))}`)
if (wrong > 0) failures.push(`${wrong} wrong echoes, e.g. ${JSON.stringify(wrongSamples)}`)
if ((deadLetters?.length ?? 0) > 0) failures.push(`${deadLetters.length} orders dead-lettered`)
if (unexpected.length > 0) failures.push(`unexpected errors: ${JSON.stringify(Object.fromEntries(unexpected))}`)
if (pushes === 0) failures.push('no stream client saw a change')
const targets = [
  {
    target: 'RSS growth after warm-up < 10%',
    value: rss ? `${fmt(rss.start, 1)} -> ${fmt(rss.end, 1)} MB (${fmt(rss.growth_pct, 1)}%)` : 'n/a (run too short)',
    met: rss ? rss.growth_pct < 10 : null,
  },
  {
    target: 'open fds flat (end <= start + 10)',
    value: `${summary.fds.start} -> ${summary.fds.end}`,
    met: summary.fds.start === null ? null : summary.fds.end <= summary.fds.start + 10,
  },
  {
    target: 'nothing acknowledged lost',
    value: `${lost.length} of ${summary.orders_acknowledged}`,
    met: lost.length === 0,
  },
]
const report = {
  name,
  machine: machineFacts(),
  options: { minutes, warmupMin, sampleMs, RATE, CHURN_MS },
  summary,
  targets,
  failures,
  samples,
}
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`)

const perMinute = samples.filter((s, i) => i === 0 || Math.floor(s.t_s / 60) !== Math.floor(samples[i - 1].t_s / 60))
const md = [
  `# Soak: ${name}`,
  '',
  `${minutes} minutes of mixed load (invoke Node + Python, HTTP orders through durable events to a Node and a Python subscriber, state, 4 stream clients) with Node workers churning (SIGTERM/SIGKILL every ${CHURN_MS / 1000} s); warm-up ${warmupMin} min. Produced by \`npm run soak -- --minutes ${minutes}\` (bench/soak.mjs).`,
  '',
  failures.length ? `**FAILURES**\n\n${failures.map((f) => `- ${f}`).join('\n')}\n` : 'No failures.\n',
  '| target | measured | met |',
  '|---|---|---|',
  ...targets.map((t) => `| ${t.target} | ${t.value} | ${t.met === null ? 'n/a' : t.met ? 'yes' : 'no'} |`),
  '',
  '| measure | value |',
  '|---|---|',
  `| operations (invoke / python invoke / HTTP / state) | ${counts.invoke} / ${counts.pyInvoke} / ${counts.http} / ${counts.state} (skipped at the in-flight cap: ${counts.skipped}) |`,
  `| orders acknowledged / delivered to both subscribers | ${summary.orders_acknowledged} / ${verified} |`,
  `| wrong echoes, dead letters | ${wrong}, ${summary.dead_letters} |`,
  `| stream pushes received | ${pushes} |`,
  `| worker churn | ${churnLog.sigterm} SIGTERM, ${churnLog.sigkill} SIGKILL |`,
  `| errors by code | ${
    Object.entries(errors)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ') || 'none'
  } |`,
  `| anonymous RSS after warm-up | ${summary.anon_mb ? `${fmt(summary.anon_mb.start, 1)} -> ${fmt(summary.anon_mb.end, 1)} MB (${fmt(summary.anon_mb.growth_pct, 1)}%)` : 'n/a'} |`,
  `| V8 heap used after warm-up | ${summary.heap_mb ? `${fmt(summary.heap_mb.start, 1)} -> ${fmt(summary.heap_mb.end, 1)} MB` : 'n/a'} |`,
  `| event-loop lag p99, worst sample | ${fmt(summary.lag_p99_ms_max, 1)} ms |`,
  '',
  '| minute | RSS MB | anon MB | file MB | heap MB | fds | lag p99 ms | ops |',
  '|---|---|---|---|---|---|---|---|',
  ...perMinute.map(
    (s) =>
      `| ${fmt(s.t_s / 60, 1)} | ${fmt(s.rss_mb, 1)} | ${fmt(s.anon_mb, 1)} | ${fmt(s.file_mb, 1)} | ${fmt(s.heap_mb, 1)} | ${s.fds} | ${fmt(s.lag_p99_ms, 1)} | ${s.ops} |`,
  ),
  '',
  `Machine: ${JSON.stringify(report.machine)}`,
  '',
].join('\n')
writeFileSync(join(outDir, `${name}.md`), md)
console.log(md)
rmSync(dataDir, { recursive: true, force: true })
process.exit(failures.length > 0 ? 1 : 0)
