// B9: durable events. (1) `emit` -> handler with the default durable (SQLite) events, one
// subscriber and then 8, 32 events in flight end to end, against BullMQ on a real
// redis-server doing the same work: a Node producer and a Node worker (in one client process,
// as for iii), N queues for N subscribers, the engine's default retry policy, done jobs
// removed; and the same iii client against an engine started with `--redis` (durable events
// in the shared Redis queue, on a redis-server of its own), row `iii-redis`. (2) durable fan-out at N = 32 subscribed functions over 4 workers against a raw
// `ws` broadcast of the same bytes, measured as B3 does (fixed work over elapsed time).
//
// Note on durability: the engine commits every emit and every acknowledgement to its WAL
// before answering (it survives kill -9); the redis-server here has persistence off, as in B3
// and B4, so BullMQ's numbers are for a store that keeps nothing across a restart.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { fanoutRound } from './b3-fanout.mjs'
import { root, runJson, startEngine, startProcess, startRedis, summarize } from './lib.mjs'

const LANES = 32
const FAN = 32
const WORKERS = 4

export async function b9({ rounds, durationMs, smoke, pin }) {
  const cpuSut = pin ? 0 : undefined
  const cpuLoad = pin ? 1 : undefined
  const subscribers = [1, 8]
  const warmMs = smoke ? 150 : 500
  const dataDir = join(root, `bench/results/tmp/data-b9-${process.pid}`)
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
  const failures = []
  try {
    const engine = track(await startEngine({ cpu: cpuSut, dataDir }))
    const redis = track(await startRedis({ cpu: cpuSut }))
    // The Redis-queue engine gets a redis-server of its own (same settings as BullMQ's).
    const eventsRedis = track(await startRedis({ cpu: cpuSut }))
    const redisEngine = track(
      await startEngine({ cpu: cpuSut, dataDir: `${dataDir}-redis`, args: ['--redis', eventsRedis.url] }),
    )
    const urls = { iii: engine.bridgeUrl, 'iii-redis': redisEngine.bridgeUrl, bullmq: redis.url }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['bullmq', 'iii', 'iii-redis'] : ['iii-redis', 'iii', 'bullmq']
      for (const n of subscribers) {
        for (const system of order) {
          const client = system === 'bullmq' ? 'bullmq' : 'iii'
          const r = await runJson(
            join(root, 'bench/load/durable-client.mjs'),
            [client, urls[system], String(n), String(LANES), String(durationMs), String(warmMs)],
            { cpu: cpuLoad },
          )
          if (r.duplicates > 0) failures.push(`B9 ${system} N=${n}: ${r.duplicates} duplicate deliveries`)
          push(`emit@${system}@${n}`, {
            events_per_s: r.per_s,
            deliveries_per_s: r.deliveries_per_s,
            p50_us: r.p50_us,
            p99_us: r.p99_us,
          })
        }
      }
    }

    // Fan-out: the B3 processes, with N = 32 only, against the same (durable) engine.
    const env = { FANOUTS: String(FAN), WORKERS: String(WORKERS) }
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
    const broadcast = track(await startProcess(join(root, 'bench/servers/ws-broadcast.mjs'), [], { cpu: cpuSut }))
    const wsEnv = { BROADCAST_URL: broadcast.output().match(/ws:\S+/)[0] }
    const iiiEnv = { III_BRIDGE_URL: engine.bridgeUrl }
    const publisher = (extra) =>
      startProcess(join(root, 'bench/load/fanout-publisher.mjs'), [], {
        env: { ...env, ...extra },
        cpu: cpuLoad,
        ipc: true,
      }).then(track)
    const fan = {
      ws: {
        subs: await spawnSubs('bench/servers/ws-subscriber.mjs', wsEnv),
        pub: await publisher({ ...wsEnv, SYSTEM: 'ws' }),
      },
      iii: {
        subs: await spawnSubs('bench/servers/iii-subscriber.mjs', iiiEnv),
        pub: await publisher({ ...iiiEnv, SYSTEM: 'iii' }),
      },
    }
    for (let round = 0; round < rounds; round++) {
      for (const name of round % 2 === 0 ? ['ws', 'iii'] : ['iii', 'ws']) {
        await fanoutRound(fan[name], FAN, warmMs, name)
        const r = await fanoutRound(fan[name], FAN, durationMs, name)
        push(`fanout@${name}@${FAN}`, { deliveries_per_s: r.per_s })
      }
    }
  } finally {
    for (const p of started.reverse()) await p.stop()
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(`${dataDir}-redis`, { recursive: true, force: true })
  }

  const rows = (part) =>
    Object.entries(samples)
      .filter(([key]) => key.startsWith(`${part}@`))
      .map(([key, s]) => {
        const [, system, n] = key.split('@')
        const row = { system, subscribers: Number(n) }
        if (part === 'emit') row.in_flight = LANES
        for (const [k, v] of Object.entries(s)) row[k] = summarize(v)
        return row
      })
  const emitRows = rows('emit')
  const fanRows = rows('fanout')
  const get = (list, system, n) => list.find((r) => r.system === system && r.subscribers === n)
  const targets = []
  for (const n of subscribers) {
    const iii = get(emitRows, 'iii', n)
    const bull = get(emitRows, 'bullmq', n)
    const tput = iii.events_per_s.median / bull.events_per_s.median
    const p50 = iii.p50_us.median / bull.p50_us.median
    targets.push({
      name: `durable emit throughput, ${n} subscriber(s), vs BullMQ`,
      ratio: tput,
      target: '>= 1.5',
      met: tput >= 1.5,
    })
    targets.push({
      name: `durable emit p50, ${n} subscriber(s), vs BullMQ`,
      ratio: p50,
      target: '<= 1.0',
      met: p50 <= 1.0,
    })
  }
  const fanRatio = get(fanRows, 'iii', FAN).deliveries_per_s.median / get(fanRows, 'ws', FAN).deliveries_per_s.median
  targets.push({
    name: `durable fan-out deliveries/s at N=${FAN} vs raw ws broadcast`,
    ratio: fanRatio,
    target: '>= 0.4',
    met: fanRatio >= 0.4,
  })
  return {
    id: 'B9',
    title: 'durable events',
    tables: [
      {
        title: `durable emit -> handler, ${LANES} events in flight end to end: iii on SQLite, iii with --redis (Redis queue), BullMQ (redis-servers without persistence)`,
        rows: emitRows,
      },
      { title: `durable emit fan-out to ${FAN} functions over ${WORKERS} workers vs raw ws broadcast`, rows: fanRows },
    ],
    targets,
    failures,
  }
}
