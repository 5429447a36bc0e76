// B2: function invoke, worker A -> engine -> worker B -> back, against a raw `ws` echo and a
// two-hop raw `ws` relay, over in-flight counts and payload sizes; and the cost of observing:
// the same engine with tracing on (`iii+tracing`, spans into the ring, no export) and with
// metrics on (`iii+metrics`, `--metrics-port 0`), against plain `iii` in the same run. Then no
// lost calls: 100,000 calls at 32 and at 1 in flight (5000 in a smoke run), each answered with
// its own payload, or the run fails.
import { join } from 'node:path'
import { root, rssKb, runJson, startEngine, startProcess, summarize } from './lib.mjs'
import { makePayload } from './load/payload.mjs'

export async function b2({ rounds, durationMs, smoke, pin }) {
  const cpuSut = pin ? 0 : undefined
  const cpuLoad = pin ? 1 : undefined
  const echo = await startProcess(join(root, 'bench/servers/ws-echo.mjs'), [], { cpu: cpuSut })
  const echoUrl = echo.output().match(/ws:\S+/)[0]
  const relay = await startProcess(join(root, 'bench/servers/ws-relay.mjs'), [], {
    env: { ECHO_URL: echoUrl },
    cpu: cpuSut,
  })
  const relayUrl = relay.output().match(/ws:\S+/)[0]
  const engine = await startEngine({ cpu: cpuSut })
  const worker = await startProcess(join(root, 'bench/servers/iii-worker.mjs'), [], {
    env: { III_BRIDGE_URL: engine.bridgeUrl },
    cpu: cpuSut,
  })
  // The observed variants: one engine and worker each, measured at 1 and 32 in flight only.
  const observed = []
  for (const [name, args] of [
    ['iii+tracing', ['--tracing']],
    ['iii+metrics', ['--metrics-port', '0']],
  ]) {
    const e = await startEngine({ cpu: cpuSut, args })
    const w = await startProcess(join(root, 'bench/servers/iii-worker.mjs'), [], {
      env: { III_BRIDGE_URL: e.bridgeUrl },
      cpu: cpuSut,
    })
    observed.push({ name, engine: e, worker: w })
  }
  const systems = {
    echo: { client: 'bench/load/ws-client.mjs', url: echoUrl },
    relay: { client: 'bench/load/ws-client.mjs', url: relayUrl },
    iii: { client: 'bench/load/iii-client.mjs', url: engine.bridgeUrl },
  }
  for (const o of observed) {
    systems[o.name] = { client: 'bench/load/iii-client.mjs', url: o.engine.bridgeUrl, only: [1, 32] }
  }
  const cases = smoke
    ? [
        { inFlight: 1, bytes: 300 },
        { inFlight: 32, bytes: 1024 },
      ]
    : [
        { inFlight: 1, bytes: 300 },
        { inFlight: 8, bytes: 1024 },
        { inFlight: 32, bytes: 1024 },
        { inFlight: 128, bytes: 1024 },
        { inFlight: 1, bytes: 1024 },
        { inFlight: 1, bytes: 100 * 1024 },
        { inFlight: 1, bytes: 1024 * 1024 },
      ]
  const samples = {}
  // Memory after the whole run (issue 14: <= 100 MB), beside the two-hop relay's after the same load.
  let memory = null
  const counted = []
  try {
    for (let round = 0; round < rounds; round++) {
      const order = Object.keys(systems)
      if (round % 2 === 1) order.reverse()
      for (const k of cases) {
        for (const name of order) {
          const s = systems[name]
          if (s.only !== undefined && !(k.bytes <= 1024 && s.only.includes(k.inFlight))) continue
          const r = await runJson(
            join(root, s.client),
            [s.url, String(k.inFlight), String(k.bytes), String(durationMs), smoke ? '200' : '500'],
            { cpu: cpuLoad },
          )
          const key = `${name}@${k.inFlight}@${k.bytes}`
          samples[key] ??= { per_s: [], p50_us: [], p99_us: [] }
          samples[key].per_s.push(r.per_s)
          samples[key].p50_us.push(r.p50_us)
          samples[key].p99_us.push(r.p99_us)
        }
      }
    }
    memory = { engine_mb: rssKb(engine.pid) / 1024, relay_mb: rssKb(relay.pid) / 1024, echo_mb: rssKb(echo.pid) / 1024 }
    // No lost calls: a fixed number of calls at 32 and at 1 in flight, each answered with its own payload.
    for (const inFlight of [32, 1]) {
      const r = await runJson(
        join(root, 'bench/load/count-calls.mjs'),
        [engine.bridgeUrl, String(inFlight), String(smoke ? 5000 : 100_000)],
        { cpu: cpuLoad },
      )
      counted.push({ in_flight: inFlight, ...r })
    }
  } finally {
    for (const o of observed) {
      await o.worker.stop()
      await o.engine.stop()
    }
    await worker.stop()
    await engine.stop()
    await relay.stop()
    await echo.stop()
  }
  const rows = Object.entries(samples).map(([key, s]) => {
    const [system, inFlight, bytes] = key.split('@')
    return {
      system,
      in_flight: Number(inFlight),
      payload_bytes: Number(bytes),
      per_s: summarize(s.per_s),
      p50_us: summarize(s.p50_us),
      p99_us: summarize(s.p99_us),
    }
  })
  const get = (system, inFlight, bytes) =>
    rows.find((r) => r.system === system && r.in_flight === inFlight && r.payload_bytes === bytes)
  const p50ratio = get('iii', 1, 300).p50_us.median / get('echo', 1, 300).p50_us.median
  const tput = get('iii', 32, 1024).per_s.median / get('relay', 32, 1024).per_s.median
  const targets = [
    { name: 'p50 at 1 in flight (300 B) vs raw ws echo', ratio: p50ratio, target: '<= 2.3', met: p50ratio <= 2.3 },
    { name: 'throughput at 32 in flight (1 KB) vs two-hop relay', ratio: tput, target: '>= 0.8', met: tput >= 0.8 },
  ]
  // What observing costs: the variant against plain iii, same run, same cases (reference rows).
  for (const o of observed) {
    const p50 = get(o.name, 1, 300).p50_us.median / get('iii', 1, 300).p50_us.median
    const t32 = get(o.name, 32, 1024).per_s.median / get('iii', 32, 1024).per_s.median
    targets.push(
      { name: `${o.name}: p50 at 1 in flight (300 B) vs iii`, ratio: p50, target: '(reference: cost)', met: null },
      {
        name: `${o.name}: throughput at 32 in flight (1 KB) vs iii`,
        ratio: t32,
        target: '(reference: cost)',
        met: null,
      },
    )
  }
  targets.push({
    name: 'engine RSS after the run, MB (absolute; relay and echo beside it)',
    ratio: memory.engine_mb,
    target: '<= 100',
    met: memory.engine_mb <= 100,
    detail: memory,
  })
  const failures = []
  for (const c of counted) {
    const unanswered = c.calls - c.answered
    targets.push({
      name: `${c.calls} calls at ${c.in_flight} in flight: unanswered or wrong (absolute)`,
      ratio: unanswered,
      target: '0',
      met: unanswered === 0,
      detail: c,
    })
    if (unanswered > 0)
      failures.push(
        `B2: ${unanswered} of ${c.calls} calls at ${c.in_flight} in flight not answered right: ${JSON.stringify(c)}`,
      )
  }
  if (get('iii', 1, 1024 * 1024)) {
    const text = JSON.stringify(makePayload(1024 * 1024))
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < 20; i++) JSON.parse(text)
    const parseUs = Number(process.hrtime.bigint() - t0) / 1000 / 20
    const extra = get('iii', 1, 1024 * 1024).p50_us.median - get('echo', 1, 1024 * 1024).p50_us.median
    targets.push({
      name: '1 MB: p50 added over raw echo, in JSON.parse times of the payload',
      ratio: extra / parseUs,
      target: '(reference: well under 1 is the goal)',
      met: null,
      detail: { added_us: extra, json_parse_us: parseUs },
    })
  }
  return { id: 'B2', title: 'function invoke through the engine', rows, targets, failures }
}
