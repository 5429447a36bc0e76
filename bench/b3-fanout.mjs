// B3: `emit` fan-out to N subscribed functions spread over 4 workers, against a raw `ws`
// broadcast of the same bytes to as many sockets (4 subscriber processes); and stream push
// (`streams.set` -> K stream-socket clients) against Redis pub/sub to K subscribers.
//
// Fan-out is measured as fixed work over elapsed time: the publisher publishes for the round's
// duration (at most 16 unacknowledged), then every delivery must arrive; deliveries/s is
// sent x N over the time from the first publish to the last delivery, so nothing queued
// inside a system is left out. A lost or duplicated delivery fails the scenario.
import { join } from 'node:path'
import { root, runJson, startEngine, startProcess, startRedis, summarize } from './lib.mjs'

const WORKERS = 4
const STREAM_RATE = 100 // changes per second, open loop

/** Publishes for `ms` and waits until all sent x n deliveries arrived; returns deliveries/s. */
export async function fanoutRound({ pub, subs }, n, ms, label) {
  await Promise.all(subs.map((s) => s.request({ cmd: 'reset' })))
  const { sent, t0 } = await pub.request({ cmd: 'run', n, ms })
  const expected = sent * n
  let total = 0
  let lastAt = 0
  let progressAt = Date.now()
  for (;;) {
    const counts = await Promise.all(subs.map((s) => s.request({ cmd: 'count' })))
    const now = counts.reduce((a, c) => a + c.count, 0)
    lastAt = Math.max(...counts.map((c) => c.lastAt))
    if (now > expected) throw new Error(`B3 ${label} N=${n}: ${now} deliveries for ${expected} expected (duplicates)`)
    if (now === expected) break
    if (now !== total) progressAt = Date.now()
    total = now
    if (Date.now() - progressAt > 5000)
      throw new Error(`B3 ${label} N=${n}: ${expected - now} of ${expected} deliveries lost (no progress for 5 s)`)
    await new Promise((r) => setTimeout(r, 10))
  }
  return { per_s: expected / ((lastAt - t0) / 1000), sent }
}

export async function b3({ rounds, durationMs, smoke, pin }) {
  const cpuSut = pin ? 0 : undefined
  const cpuLoad = pin ? 1 : undefined
  const fanouts = smoke ? [1, 32] : [1, 4, 16, 32, 64, 128]
  const clients = smoke ? [1, 100] : [1, 16, 100, 128]
  const warmMs = smoke ? 150 : 500
  const env = { FANOUTS: fanouts.join(','), WORKERS: String(WORKERS) }
  const started = []
  const track = (p) => {
    started.push(p)
    return p
  }
  const samples = {}
  const push = (key, values) => {
    samples[key] ??= {}
    for (const [k, v] of Object.entries(values)) (samples[key][k] ??= []).push(v)
  }
  try {
    const engine = track(await startEngine({ cpu: cpuSut }))
    const redis = track(await startRedis({ cpu: cpuSut }))
    const spawnSubs = (script, extra) =>
      Promise.all(
        Array.from({ length: WORKERS }, (_, i) =>
          startProcess(join(root, script), [], {
            env: { ...env, ...extra, INDEX: String(i) },
            cpu: cpuSut,
            ipc: true,
            timeoutMs: 60_000,
          }).then(track),
        ),
      )
    const iiiEnv = { III_BRIDGE_URL: engine.bridgeUrl }
    const broadcast = track(await startProcess(join(root, 'bench/servers/ws-broadcast.mjs'), [], { cpu: cpuSut }))
    const wsEnv = { BROADCAST_URL: broadcast.output().match(/ws:\S+/)[0] }
    const fan = {
      ws: {
        subs: await spawnSubs('bench/servers/ws-subscriber.mjs', wsEnv),
        pub: track(
          await startProcess(join(root, 'bench/load/fanout-publisher.mjs'), [], {
            env: { ...env, ...wsEnv, SYSTEM: 'ws' },
            cpu: cpuLoad,
            ipc: true,
          }),
        ),
      },
      iii: {
        subs: await spawnSubs('bench/servers/iii-subscriber.mjs', iiiEnv),
        pub: track(
          await startProcess(join(root, 'bench/load/fanout-publisher.mjs'), [], {
            env: { ...env, ...iiiEnv, SYSTEM: 'iii' },
            cpu: cpuLoad,
            ipc: true,
          }),
        ),
      },
    }
    const streamEnv = { BRIDGE_URL: engine.bridgeUrl, STREAMS_URL: engine.streamsUrl, REDIS_URL: redis.url }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['ws', 'iii'] : ['iii', 'ws']
      for (const n of fanouts) {
        for (const name of order) {
          await fanoutRound(fan[name], n, warmMs, name)
          const r = await fanoutRound(fan[name], n, durationMs, name)
          push(`emit@${name}@${n}`, { deliveries_per_s: r.per_s })
        }
      }
      const streamOrder = round % 2 === 0 ? ['redis', 'iii'] : ['iii', 'redis']
      for (const k of clients) {
        for (const name of streamOrder) {
          const r = await runJson(
            join(root, 'bench/load/stream-push.mjs'),
            [name, String(k), String(STREAM_RATE), String(durationMs), String(warmMs)],
            { env: streamEnv, cpu: cpuLoad },
          )
          push(`stream@${name}@${k}`, { p50_us: r.p50_us, p99_us: r.p99_us, max_us: r.max_us })
        }
      }
    }
  } finally {
    for (const p of started.reverse()) await p.stop()
  }

  const rows = (part) =>
    Object.entries(samples)
      .filter(([key]) => key.startsWith(`${part}@`))
      .map(([key, s]) => {
        const [, system, n] = key.split('@')
        const row = { system, [part === 'emit' ? 'subscribers' : 'clients']: Number(n) }
        if (part === 'stream') row.changes_per_s = STREAM_RATE
        for (const [k, v] of Object.entries(s)) row[k] = summarize(v)
        return row
      })
  const emitRows = rows('emit')
  const streamRows = rows('stream')
  const emit = (system, n) => emitRows.find((r) => r.system === system && r.subscribers === n)
  const stream = (system, k) => streamRows.find((r) => r.system === system && r.clients === k)
  const fanRatio = emit('iii', 32).deliveries_per_s.median / emit('ws', 32).deliveries_per_s.median
  const p99 = stream('iii', 100).p99_us.median / 1000
  const targets = [
    { name: 'emit deliveries/s at N=32 vs raw ws broadcast', ratio: fanRatio, target: '>= 0.5', met: fanRatio >= 0.5 },
    { name: 'stream push p99 at K=100 (ms, absolute)', ratio: p99, target: '<= 2 ms', met: p99 <= 2 },
    {
      name: 'stream push p99 at K=100 vs Redis pub/sub',
      ratio: p99 / (stream('redis', 100).p99_us.median / 1000),
      target: '(reference)',
      met: null,
    },
  ]
  return {
    id: 'B3',
    title: 'emit fan-out and stream push',
    tables: [
      { title: `emit fan-out over ${WORKERS} workers (300 B events) vs raw ws broadcast`, rows: emitRows },
      { title: `stream push, ${STREAM_RATE} changes/s open loop, vs Redis PUBLISH (no store)`, rows: streamRows },
    ],
    targets,
  }
}
