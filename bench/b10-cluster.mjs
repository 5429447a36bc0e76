// B10: engines on one Redis. (1) invoke from a client on engine A of a function whose only
// worker is on engine B (relayed over the peer socket) against a client on B itself, in the
// same run; (2) state through an engine on the redis adapter against ioredis GET/SET/INCR on
// the same redis-server; (3) HTTP throughput through 2 engines against 1 (one worker on each
// engine; on a 2-core machine this shows the overhead of the second engine, not scale).
import { join } from 'node:path'
import { root, runJson, startEngine, startProcess, startRedis, summarize, tmpFile } from './lib.mjs'

const STATE_OPS = [
  { op: 'get', redis: 'GET' },
  { op: 'set', redis: 'SET' },
  { op: 'incr', redis: 'INCR' },
]

/** Resolves once `url` answers 200 to a POST (the route reached every engine). */
async function routed(url) {
  for (let i = 0; i < 200; i++) {
    const r = await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }).catch(
      () => null,
    )
    if (r?.status === 200) return
    await new Promise((res) => setTimeout(res, 50))
  }
  throw new Error(`B10: ${url} never answered 200`)
}

export async function b10({ rounds, durationMs, smoke, pin }) {
  const cpuSut = pin ? 0 : undefined
  const cpuLoad = pin ? 1 : undefined
  const warm = smoke ? '200' : '500'
  const redis = await startRedis({ cpu: cpuSut })
  const config = tmpFile(`b10-${process.pid}.yaml`, `redis:\n  url: ${redis.url}\n  prefix: "b10-${process.pid}:"\n`)
  const stops = [redis.stop]
  const samples = {}
  const add = (key, r) => {
    samples[key] ??= { per_s: [], p50_us: [], p99_us: [] }
    samples[key].per_s.push(r.per_s ?? r.rps)
    samples[key].p50_us.push(r.p50_us)
    samples[key].p99_us.push(r.p99_us)
  }
  try {
    const a = await startEngine({ cpu: cpuSut, config, dataDir: join(root, `bench/results/tmp/b10-a-${process.pid}`) })
    const b = await startEngine({ cpu: cpuSut, config, dataDir: join(root, `bench/results/tmp/b10-b-${process.pid}`) })
    stops.unshift(a.stop, b.stop)
    const workerB = await startProcess(join(root, 'bench/servers/iii-worker.mjs'), [], {
      env: { III_BRIDGE_URL: b.bridgeUrl },
      cpu: cpuSut,
    })
    stops.unshift(workerB.stop)
    await routed(`${a.apiUrl}/echo`)
    // An engine on its own with the memory adapter: what the engine hop costs without Redis.
    const memory = await startEngine({
      cpu: cpuSut,
      config: tmpFile('b10-memory.yaml', 'modules:\n  state:\n    adapter: memory\n'),
    })
    stops.unshift(memory.stop)

    // (1) invoke: same engine (client on B) and cross engine (client on A), alternating.
    const invokeCases = smoke ? [1] : [1, 32]
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['same', 'cross'] : ['cross', 'same']
      for (const inFlight of invokeCases) {
        for (const name of order) {
          const url = name === 'same' ? b.bridgeUrl : a.bridgeUrl
          const r = await runJson(
            join(root, 'bench/load/iii-client.mjs'),
            [url, String(inFlight), '300', String(durationMs), warm],
            { cpu: cpuLoad },
          )
          add(`invoke@${name}@${inFlight}`, r)
        }
      }
    }

    // (2) state through engine A on Redis vs ioredis direct.
    const stateCases = (smoke ? [1] : [1, 64]).flatMap((c) => STATE_OPS.map(({ op }) => `${op}@${c}`)).join(',')
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['iii_redis', 'iii_memory', 'redis'] : ['redis', 'iii_memory', 'iii_redis']
      const urls = { iii_redis: a.bridgeUrl, iii_memory: memory.bridgeUrl, redis: redis.url }
      for (const name of order) {
        const results = await runJson(
          join(root, 'bench/load/state-load.mjs'),
          [name === 'redis' ? 'redis' : 'iii', urls[name], stateCases, String(durationMs), warm],
          { cpu: cpuLoad },
        )
        for (const r of results) add(`state@${name}@${r.op}@${r.c}`, r)
      }
    }

    // (3) HTTP: a worker on A too; the load on A alone, then split over A and B.
    const workerA = await startProcess(join(root, 'bench/servers/iii-worker.mjs'), [], {
      env: { III_BRIDGE_URL: a.bridgeUrl },
      cpu: cpuSut,
    })
    stops.unshift(workerA.stop)
    const http = join(root, 'bench/load/http-load.mjs')
    const connections = 32
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['one', 'two'] : ['two', 'one']
      for (const name of order) {
        const targets = name === 'one' ? [a.apiUrl] : [a.apiUrl, b.apiUrl]
        const each = String(connections / targets.length)
        const rs = await Promise.all(
          targets.map((u) => runJson(http, [`${u}/echo`, each, String(durationMs), warm], { cpu: cpuLoad })),
        )
        for (const r of rs)
          if (r.non2xx > 0 || r.errors > 0) throw new Error(`B10 http ${name}: ${r.non2xx} non-2xx, ${r.errors} errors`)
        add(`http@${name}@${connections}`, {
          rps: rs.reduce((n, r) => n + r.rps, 0),
          p50_us: Math.max(...rs.map((r) => r.p50_us)),
          p99_us: Math.max(...rs.map((r) => r.p99_us)),
        })
      }
    }
  } finally {
    for (const stop of stops) await stop()
  }

  const rows = Object.entries(samples).map(([key, s]) => {
    const [kind, system, ...rest] = key.split('@')
    const row = { kind, system }
    if (kind === 'state') {
      row.op = system === 'redis' ? STATE_OPS.find((o) => o.op === rest[0]).redis : rest[0]
      row.concurrency = Number(rest[1])
    } else row.concurrency = Number(rest[0])
    return { ...row, per_s: summarize(s.per_s), p50_us: summarize(s.p50_us), p99_us: summarize(s.p99_us) }
  })
  const find = (kind, system, c, op) =>
    rows.find((r) => r.kind === kind && r.system === system && r.concurrency === c && (op === undefined || r.op === op))
  const cross = find('invoke', 'cross', 1).p50_us.median / find('invoke', 'same', 1).p50_us.median
  const targets = [
    {
      name: 'cross-engine invoke p50 vs same-engine (1 in flight, 300 B)',
      ratio: cross,
      target: '<= 1.5',
      met: cross <= 1.5,
    },
  ]
  for (const { op, redis } of STATE_OPS) {
    const r = find('state', 'iii_redis', 1, op).p50_us.median / find('state', 'redis', 1, redis).p50_us.median
    targets.push({
      name: `state ${op} p50 through the engine on Redis vs ioredis ${redis} (c=1)`,
      ratio: r,
      target: '<= 1.5',
      met: r <= 1.5,
    })
  }
  for (const { op, redis } of STATE_OPS) {
    const added = find('state', 'iii_redis', 1, op).p50_us.median - find('state', 'iii_memory', 1, op).p50_us.median
    targets.push({
      name: `state ${op}: p50 the redis adapter adds over the memory adapter, in ioredis ${redis} p50s (c=1)`,
      ratio: added / find('state', 'redis', 1, redis).p50_us.median,
      target: '(reference: 1 = one direct round trip)',
      met: null,
    })
  }
  const two = find('http', 'two', 32).per_s.median / find('http', 'one', 32).per_s.median
  targets.push({
    name: 'HTTP throughput, 2 engines vs 1 (c=32, 2 cores: overhead, not scale)',
    ratio: two,
    target: '(report)',
    met: null,
  })
  return { id: 'B10', title: 'engines on one Redis', rows, targets }
}
