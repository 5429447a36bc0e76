// B9 client: a producer and a worker in one process, against the engine's durable events
// (SYSTEM=iii) or BullMQ on redis-server (SYSTEM=bullmq). N subscribers: iii subscribes N
// functions to one topic; BullMQ gets N queues, each job added to all of them. LANES events are
// in flight end to end: a lane emits an event, waits until every subscriber handled it, and
// emits the next. Latency is emit start -> last handler run.
// Usage: node durable-client.mjs <iii|bullmq> <url> <subscribers> <lanes> <durationMs> <warmupMs>
import { Bridge, createBridge } from '@iii-dev/sdk'
import { makePayload } from './payload.mjs'

const [system, url, nArg, lanesArg, durArg, warmArg] = process.argv.slice(2)
const n = Number(nArg)
const lanes = Number(lanesArg)
const pad = makePayload(300).items
const pending = new Map()
let deliveries = 0
let duplicates = 0

/** A subscriber ran for event `seq`: the event is done once all n did. */
const handled = (seq) => {
  const p = pending.get(seq)
  if (p === undefined) {
    duplicates++
    return
  }
  deliveries++
  if (--p.left === 0) {
    pending.delete(seq)
    p.resolve()
  }
}

let publish
let close
const run = Date.now().toString(36)
if (system === 'iii') {
  const worker = new Bridge(url, { workerName: 'b9-worker', forwardLogs: false, logLevel: 'warn' })
  const topic = `b9.${n}`
  for (let i = 0; i < n; i++) {
    const function_path = `b9.n${n}.${i}`
    worker.registerFunction({ function_path, handler: (d) => void handled(d.seq) })
    worker.registerTrigger({ trigger_type: 'event', function_path, config: { topic, concurrency: lanes } })
  }
  await worker.connect()
  const producer = createBridge({ url, workerName: 'b9-producer', forwardLogs: false, logLevel: 'warn' })
  await producer.connect()
  for (;;) {
    const { subscriptions } = await producer.invokeFunction('events.stats', {})
    if (subscriptions.filter((s) => s.topic === topic).length >= n) break
    await new Promise((r) => setTimeout(r, 20))
  }
  await new Promise((r) => setTimeout(r, 100))
  publish = (data) => producer.emit(topic, data)
  close = async () => {
    await producer.close()
    await worker.close()
  }
} else {
  const { Queue, Worker } = await import('bullmq')
  const { default: IORedis } = await import('ioredis')
  const connection = () => new IORedis(url, { maxRetriesPerRequest: null })
  const producerConn = connection()
  const queues = []
  const workers = []
  for (let i = 0; i < n; i++) {
    const name = `b9-${run}-${n}-${i}`
    queues.push(new Queue(name, { connection: producerConn }))
    workers.push(
      new Worker(name, async (job) => void handled(job.data.seq), { connection: connection(), concurrency: lanes }),
    )
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()))
  // The same retry policy as the engine's default, and done jobs removed (as the engine does).
  const opts = {
    attempts: 3,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: true,
    removeOnFail: true,
  }
  publish = (data) => Promise.all(queues.map((q) => q.add('e', data, opts)))
  close = async () => {
    await Promise.all(workers.map((w) => w.close()))
    await Promise.all(queues.map((q) => q.close()))
    producerConn.disconnect()
  }
}

let seq = 0
let measuring = false
let stop = false
const latencies = []
const lane = async () => {
  while (!stop) {
    const s = seq++
    const t = process.hrtime.bigint()
    const done = new Promise((resolve) => pending.set(s, { left: n, resolve }))
    await publish({ seq: s, items: pad })
    await done
    if (measuring) latencies.push(Number(process.hrtime.bigint() - t) / 1000)
  }
}
const loops = Array.from({ length: lanes }, lane)
await new Promise((r) => setTimeout(r, Number(warmArg)))
measuring = true
const d0 = deliveries
const t0 = process.hrtime.bigint()
await new Promise((r) => setTimeout(r, Number(durArg)))
measuring = false
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9
const measuredDeliveries = deliveries - d0
stop = true
await Promise.all(loops)
if (duplicates > 0) console.error(`${duplicates} duplicate deliveries`)
await close()
latencies.sort((a, b) => a - b)
const pick = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]
console.log(
  JSON.stringify({
    events: latencies.length,
    per_s: latencies.length / elapsed,
    deliveries_per_s: measuredDeliveries / elapsed,
    p50_us: pick(50),
    p99_us: pick(99),
    duplicates,
  }),
)
process.exit(0)
