// B8: a Motia step chain, API step -> emit -> event step -> state -> stream -> a stream client,
// against the same logic hand-wired in one process (node:http + EventEmitter + Map + a `ws`
// push). Open loop: chains fire at a fixed rate and the latency is from a chain's request
// leaving the client to the stream client seeing its item. The Motia project is bench/motia-chain, run by
// `motia start` (the CLI of packages/motia) against an engine started here.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { root, runJson, startEngine, startProcess, summarize } from './lib.mjs'

export async function b8({ rounds, durationMs, smoke, pin }) {
  const cpuSut = pin ? 0 : undefined
  const cpuLoad = pin ? 1 : undefined
  const rates = smoke ? [100] : [100, 300]
  const dataDir = join(root, `bench/results/tmp/data-b8-${process.pid}`)
  const systems = {}
  const samples = {}
  try {
    const hand = await startProcess(join(root, 'bench/servers/chain-handwired.mjs'), [], { cpu: cpuSut })
    const [, http, ws] = hand.output().match(/ready (\S+) (\S+)/)
    systems.handwired = { http, streams: ws, stop: hand.stop }
    const engine = await startEngine({ cpu: cpuSut, dataDir })
    systems.motia = { http: engine.apiUrl, streams: engine.streamsUrl, stop: engine.stop }
    const motia = await startProcess(
      join(root, 'node_modules/motia/bin/motia.js'),
      ['start', join(root, 'bench/motia-chain'), '--url', engine.bridgeUrl],
      { readyText: '[motia] ready', cpu: cpuSut, timeoutMs: 60_000 },
    )
    systems.motia.stop = async () => {
      await motia.stop()
      await engine.stop()
    }
    for (let round = 0; round < rounds; round++) {
      const order = Object.keys(systems)
      if (round % 2 === 1) order.reverse()
      for (const rate of rates) {
        for (const name of order) {
          const r = await runJson(
            join(root, 'bench/load/chain-load.mjs'),
            [systems[name].http, systems[name].streams, String(rate), String(durationMs), smoke ? '300' : '1000'],
            { cpu: cpuLoad },
          )
          const key = `${name}@${rate}`
          samples[key] ??= {}
          for (const k of ['p50_us', 'p99_us', 'max_us', 'http_p50_us']) (samples[key][k] ??= []).push(r[k])
        }
      }
    }
  } finally {
    for (const s of Object.values(systems)) await s.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
  const rows = Object.entries(samples).map(([key, s]) => {
    const [system, rate] = key.split('@')
    const row = { system, chains_per_s: Number(rate) }
    for (const [k, v] of Object.entries(s)) row[k] = summarize(v)
    return row
  })
  const get = (system, rate) => rows.find((r) => r.system === system && r.chains_per_s === rate)
  const p50 = get('motia', 100).p50_us.median / get('handwired', 100).p50_us.median
  const p99 = get('motia', 100).p99_us.median / 1000
  const targets = [
    { name: 'end-to-end p50 at 100 chains/s vs hand-wired', ratio: p50, target: '<= 3', met: p50 <= 3 },
    { name: 'end-to-end p99 at 100 chains/s (ms, absolute)', ratio: p99, target: '<= 5 ms', met: p99 <= 5 },
  ]
  return { id: 'B8', title: 'Motia step chain (API -> emit -> event -> state -> stream client)', rows, targets }
}
