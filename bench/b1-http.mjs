// B1: HTTP api trigger, client -> engine -> worker over the bridge -> back, against a bare
// node:http server doing the same JSON work and a minimal two-process relay.
import { join } from 'node:path'
import { root, runJson, startEngine, startProcess, summarize } from './lib.mjs'

const load = join(root, 'bench/load/http-load.mjs')

export async function b1({ rounds, durationMs, smoke, pin }) {
  const cpuSut = pin ? 0 : undefined
  const cpuLoad = pin ? 1 : undefined
  const concurrency = smoke ? [1, 32] : [1, 8, 32, 128]
  const systems = {}
  const bare = await startProcess(join(root, 'bench/servers/bare-http.mjs'), [], { cpu: cpuSut })
  systems.bare = { url: `${bare.output().match(/http:\S+/)[0]}/echo`, stop: bare.stop }
  const front = await startProcess(join(root, 'bench/servers/relay-front.mjs'), [], {
    readyText: 'ws ws://',
    cpu: cpuSut,
  })
  const relayWs = front
    .output()
    .match(/ws ws:\/\/\S+/)[0]
    .slice(3)
  const relayWorker = await startProcess(join(root, 'bench/servers/relay-worker.mjs'), [], {
    env: { RELAY_URL: relayWs },
    cpu: cpuSut,
  })
  await new Promise((r) => setTimeout(r, 100))
  systems.relay = {
    url: `${front.output().match(/ready (http:\S+)/)[1]}/echo`,
    stop: async () => {
      await relayWorker.stop()
      await front.stop()
    },
  }
  const routesLiveMs = {}
  for (const routes of smoke ? [1] : [1, 1000]) {
    const engine = await startEngine({ cpu: cpuSut })
    const worker = await startProcess(join(root, 'bench/servers/iii-worker.mjs'), [], {
      env: { III_BRIDGE_URL: engine.bridgeUrl, ROUTES: String(routes) },
      cpu: cpuSut,
      timeoutMs: 60_000,
    })
    routesLiveMs[routes] = Number(worker.output().match(/routes live in (\S+) ms/)[1])
    systems[`iii_${routes}_routes`] = {
      url: `${engine.apiUrl}/echo`,
      stop: async () => {
        await worker.stop()
        await engine.stop()
      },
    }
  }

  const samples = {}
  try {
    for (let round = 0; round < rounds; round++) {
      const order = Object.keys(systems)
      if (round % 2 === 1) order.reverse() // A B ... then ... B A
      for (const c of concurrency) {
        for (const name of order) {
          const r = await runJson(load, [systems[name].url, String(c), String(durationMs), smoke ? '200' : '500'], {
            cpu: cpuLoad,
          })
          if (r.non2xx > 0 || r.errors > 0)
            throw new Error(`B1 ${name} c=${c}: ${r.non2xx} non-2xx, ${r.errors} errors`)
          const key = `${name}@${c}`
          samples[key] ??= { rps: [], p50_us: [], p99_us: [] }
          samples[key].rps.push(r.rps)
          samples[key].p50_us.push(r.p50_us)
          samples[key].p99_us.push(r.p99_us)
        }
      }
    }
  } finally {
    for (const s of Object.values(systems)) await s.stop()
  }

  const rows = []
  for (const [key, s] of Object.entries(samples)) {
    const [system, c] = key.split('@')
    rows.push({
      system,
      concurrency: Number(c),
      rps: summarize(s.rps),
      p50_us: summarize(s.p50_us),
      p99_us: summarize(s.p99_us),
    })
  }
  const get = (system, c) => rows.find((r) => r.system === system && r.concurrency === c)
  const ratio = (a, b) => a / b
  const targets = [
    {
      name: 'throughput at c=32 vs bare node:http',
      ratio: ratio(get('iii_1_routes', 32).rps.median, get('bare', 32).rps.median),
      target: '>= 0.55',
      met: get('iii_1_routes', 32).rps.median / get('bare', 32).rps.median >= 0.55,
    },
    {
      name: 'p50 at c=1 vs bare node:http',
      ratio: ratio(get('iii_1_routes', 1).p50_us.median, get('bare', 1).p50_us.median),
      target: '<= 1.5',
      met: get('iii_1_routes', 1).p50_us.median / get('bare', 1).p50_us.median <= 1.5,
    },
    {
      name: 'throughput at c=32 vs two-process relay',
      ratio: ratio(get('iii_1_routes', 32).rps.median, get('relay', 32).rps.median),
      target: '(reference)',
      met: null,
    },
  ]
  if (get('iii_1000_routes', 32)) {
    const r = ratio(get('iii_1000_routes', 32).rps.median, get('iii_1_routes', 32).rps.median)
    targets.push({ name: 'throughput with 1000 routes vs 1 route (c=32)', ratio: r, target: '>= 0.95', met: r >= 0.95 })
    // From the worker's connect() to its last route listed by the engine (one round trip per poll).
    const ms = routesLiveMs[1000]
    targets.push({ name: 'registering 1000 routes, ms (absolute)', ratio: ms, target: '< 500', met: ms < 500 })
  }
  return { id: 'B1', title: 'HTTP api trigger', rows, targets }
}
