// B6: 100, 1000 and 5000 connected workers, each with 5 functions and 5 api routes, spoken by
// raw sockets from one load process (docs/protocol.md). Measures the engine's RSS per worker
// (against a raw `ws` server holding as many idle sockets), the time for all of them to
// register (first connect to the last one's round trip through its own function; the
// baseline: connect and one echo), and invoke p50 (B2's client, 1 in flight, 300 B) with
// only the echo worker connected and again with all of them. Then every worker disconnects at
// once, and the time the engine stays busy afterwards is shown (capped at DISCONNECT_CAP_MS).
import { join } from 'node:path'
import { root, rssKb, runJson, startEngine, startProcess, summarize, untilIdle } from './lib.mjs'

/** How long to watch the engine after every worker disconnected at once. */
const DISCONNECT_CAP_MS = 5_000
const settle = (ms) => new Promise((r) => setTimeout(r, ms))

export async function b6({ rounds, durationMs, smoke, pin }) {
  const cpuSut = pin ? 0 : undefined
  const cpuLoad = pin ? 1 : undefined
  const counts = smoke ? [100] : [100, 1000, 5000]
  const samples = {}
  const add = (key, values) => {
    samples[key] ??= {}
    for (const [k, v] of Object.entries(values)) (samples[key][k] ??= []).push(v)
  }
  const invokeP50 = async (url) => {
    const r = await runJson(
      join(root, 'bench/load/iii-client.mjs'),
      [url, '1', '300', String(durationMs), smoke ? '200' : '500'],
      {
        cpu: cpuLoad,
      },
    )
    return r.p50_us
  }
  // Before the RSS baseline: 20 sockets come and go (code paths warm, start-up garbage
  // collectable), then wait until it is idle, so the difference is about holding connections.
  const warm = async (url, kind, pid) => {
    await load.request({ cmd: 'connect', url, count: 20, kind })
    await load.request({ cmd: 'close' })
    await untilIdle(pid, 5000)
  }
  const load = await startProcess(join(root, 'bench/load/many-workers.mjs'), [], {
    cpu: cpuLoad,
    ipc: true,
    manyFiles: true,
  })
  try {
    const measure = {
      ws: async (count) => {
        const server = await startProcess(join(root, 'bench/servers/ws-hold.mjs'), [], { cpu: cpuSut, manyFiles: true })
        try {
          const url = server.output().match(/ws:\S+/)[0]
          await warm(url, 'ws', server.pid)
          const before = rssKb(server.pid)
          const { ms } = await load.request({ cmd: 'connect', url, count, kind: 'ws' })
          await settle(500)
          add(`ws@${count}`, { rss_per_worker_kb: (rssKb(server.pid) - before) / count, register_ms: ms })
          await load.request({ cmd: 'close' })
        } finally {
          await server.stop()
        }
      },
      iii: async (count) => {
        const engine = await startEngine({ cpu: cpuSut, manyFiles: true })
        let echo
        try {
          echo = await startProcess(join(root, 'bench/servers/iii-worker.mjs'), [], {
            env: { III_BRIDGE_URL: engine.bridgeUrl },
            cpu: cpuSut,
          })
          const p50One = await invokeP50(engine.bridgeUrl)
          await warm(engine.bridgeUrl, 'iii', engine.pid)
          const before = rssKb(engine.pid)
          const { ms } = await load.request({ cmd: 'connect', url: engine.bridgeUrl, count, kind: 'iii' })
          await settle(500)
          const rss = (rssKb(engine.pid) - before) / count
          const listed = await load.request({ cmd: 'verify', url: engine.bridgeUrl })
          if (listed.functions !== count * 5 || listed.routes !== count * 5)
            throw new Error(
              `B6: ${count} workers registered, the engine lists ${listed.functions} functions and ${listed.routes} routes (expected ${count * 5} each)`,
            )
          const p50Many = await invokeP50(engine.bridgeUrl)
          // All of them disconnect at once (a network blip): how long the engine stays busy.
          await load.request({ cmd: 'close' })
          const busy = await untilIdle(engine.pid, DISCONNECT_CAP_MS)
          add(`iii@${count}`, {
            rss_per_worker_kb: rss,
            register_ms: ms,
            invoke_p50_us_1: p50One,
            invoke_p50_us_n: p50Many,
            [`disconnect_busy_ms_cap_${DISCONNECT_CAP_MS / 1000}s`]: busy.ms,
          })
        } finally {
          await echo?.stop()
          await engine.stop()
        }
      },
    }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['ws', 'iii'] : ['iii', 'ws']
      for (const count of counts) for (const name of order) await measure[name](count)
    }
  } finally {
    await load.stop()
  }
  const rows = Object.entries(samples).map(([key, s]) => {
    const [system, workers] = key.split('@')
    const row = { system, workers: Number(workers) }
    for (const [k, v] of Object.entries(s)) row[k] = summarize(v)
    return row
  })
  const biggest = Math.max(...counts)
  const iii = rows.find((r) => r.system === 'iii' && r.workers === biggest)
  const ws = rows.find((r) => r.system === 'ws' && r.workers === biggest)
  const kb = iii.rss_per_worker_kb.median
  const reg = iii.register_ms.median / 1000
  const p50 = iii.invoke_p50_us_n.median / iii.invoke_p50_us_1.median
  const targets = [
    { name: `engine RSS per worker at ${biggest} workers (KiB, absolute)`, ratio: kb, target: '<= 40', met: kb <= 40 },
    {
      name: `engine RSS per worker vs raw ws server per idle socket (${biggest})`,
      ratio: kb / ws.rss_per_worker_kb.median,
      target: '(reference)',
      met: null,
    },
    {
      name: `${biggest} workers register (s, absolute)`,
      ratio: reg,
      target: biggest === 5000 ? '<= 3 s' : '(5000 in the full run)',
      met: biggest === 5000 ? reg <= 3 : null,
    },
    { name: `invoke p50 at ${biggest} workers vs at 1`, ratio: p50, target: '<= 1.1', met: p50 <= 1.1 },
  ]
  return { id: 'B6', title: 'many connected workers', rows, targets }
}
