// B4 load: closed-loop state operations from one client connection, `c` in flight.
// Usage: node state-load.mjs <iii|redis> <url> <cases> <durationMs> <warmupMs>
// cases: comma-separated op@c with op get | set | incr. iii goes through the engine with the
// SDK (`state.get`, `state.set`, `state.update` increment); redis uses ioredis GET/SET/INCR,
// with the same JSON encoding and decoding a worker would do.
// `incr` hits one key from every lane; afterwards the key must hold exactly the number of
// acknowledged increments, or this exits 1.
// Prints one JSON line: [{op, c, ops, per_s, p50_us, p99_us, incr_final?}].
import { createBridge } from '@iii-dev/sdk'
import Redis from 'ioredis'
import { percentile } from '../lib.mjs'
import { makePayload } from './payload.mjs'

const [system, url, casesArg, durArg, warmArg] = process.argv.slice(2)
const value = makePayload(256)
const run = `${process.pid}-${Date.now()}`
let ops
let readCounter
let close
if (system === 'iii') {
  const bridge = createBridge({ url, workerName: 'bench-state', forwardLogs: false, logLevel: 'warn' })
  await bridge.connect()
  const { state } = bridge
  ops = {
    get: (lane) => state.get('bench', `k${lane}`),
    set: (lane) => state.set('bench', `k${lane}`, value),
    incr: (_lane, key) => state.update('bench', key, [{ type: 'increment', path: 'n', by: 1 }]),
  }
  readCounter = async (key) => (await state.get('bench', key))?.n ?? 0
  close = () => bridge.close()
} else {
  const redis = new Redis(url)
  ops = {
    get: async (lane) => JSON.parse(await redis.get(`bench:k${lane}`)),
    set: (lane) => redis.set(`bench:k${lane}`, JSON.stringify(value)),
    incr: (_lane, key) => redis.incr(`bench:${key}`),
  }
  readCounter = async (key) => Number((await redis.get(`bench:${key}`)) ?? 0)
  close = () => redis.disconnect()
}

const results = []
for (const [index, spec] of casesArg.split(',').entries()) {
  const [op, cArg] = spec.split('@')
  const c = Number(cArg)
  const key = `incr-${run}-${index}`
  if (op === 'get') for (let lane = 0; lane < c; lane++) await ops.set(lane) // something to read
  const latencies = []
  let acked = 0
  let measuring = false
  let done = false
  const loop = async (lane) => {
    while (!done) {
      const t = process.hrtime.bigint()
      await ops[op](lane, key)
      acked++
      if (measuring) latencies.push(Number(process.hrtime.bigint() - t) / 1000)
    }
  }
  const loops = Array.from({ length: c }, (_, lane) => loop(lane))
  await new Promise((r) => setTimeout(r, Number(warmArg)))
  measuring = true
  const t0 = process.hrtime.bigint()
  await new Promise((r) => setTimeout(r, Number(durArg)))
  measuring = false
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9
  done = true
  await Promise.all(loops)
  latencies.sort((a, b) => a - b)
  const result = {
    op,
    c,
    ops: latencies.length,
    per_s: latencies.length / elapsed,
    p50_us: percentile(latencies, 50),
    p99_us: percentile(latencies, 99),
  }
  if (op === 'incr') {
    result.incr_final = await readCounter(key)
    if (result.incr_final !== acked) {
      console.error(
        `${system}: ${acked} increments acknowledged by ${c} lanes, but the counter holds ${result.incr_final}`,
      )
      process.exit(1)
    }
  }
  results.push(result)
}
await close()
console.log(JSON.stringify(results))
process.exit(0)
