// B3 stream push: K subscribers and one writer in this process; the writer changes one item
// at a fixed rate (open loop) and every subscriber measures the time from just before the
// write to its own receipt (one clock: performance.now in this process).
// Usage: node stream-push.mjs <iii|redis> <K> <ratePerS> <durationMs> <warmupMs>
// iii: STREAMS_URL (raw stream-socket clients joining one group) and BRIDGE_URL (`streams.set`).
// redis: REDIS_URL (K ioredis subscribers of one channel; the writer PUBLISHes).
// Prints {sent, deliveries, p50_us, p99_us, max_us}; exits 1 if a subscriber missed a change.
import { createBridge } from '@iii-dev/sdk'
import Redis from 'ioredis'
import WebSocket from 'ws'
import { percentile } from '../lib.mjs'
import { makePayload } from './payload.mjs'

const [system, kArg, rateArg, durArg, warmArg] = process.argv.slice(2)
const k = Number(kArg)
const pad = makePayload(200).items
const latencies = []
let measuring = false
const seen = [] // per subscriber: how many measured changes it got
let write
let close
let closing = false

const receive = (i, text) => {
  const msg = JSON.parse(text)
  const data = system === 'iii' ? msg.event?.data : msg
  if (data === undefined || (system === 'iii' && msg.event.type === 'sync')) return
  if (data.m) {
    latencies.push((performance.now() - data.t) * 1000)
    seen[i]++
  }
}

if (system === 'iii') {
  const bridge = createBridge({
    url: process.env.BRIDGE_URL,
    workerName: 'bench-writer',
    forwardLogs: false,
    logLevel: 'warn',
  })
  await bridge.connect()
  const clients = []
  await Promise.all(
    Array.from({ length: k }, (_, i) => {
      seen[i] = 0
      const ws = new WebSocket(process.env.STREAMS_URL, { perMessageDeflate: false })
      clients.push(ws)
      return new Promise((resolve, reject) => {
        ws.on('error', reject)
        ws.on('close', () => {
          if (!closing) {
            console.error(`stream client ${i} was disconnected by the engine`)
            process.exit(1)
          }
        })
        ws.on('open', () =>
          ws.send(
            JSON.stringify({ type: 'join', data: { subscriptionId: 's', streamName: 'bench', groupId: 'push' } }),
          ),
        )
        ws.on('message', (raw) => {
          const text = raw.toString()
          if (text.includes('"sync"')) resolve()
          receive(i, text)
        })
      })
    }),
  )
  write = (data) => bridge.invokeFunction('streams.set', { stream_name: 'bench', group_id: 'push', item_id: 'x', data })
  close = async () => {
    for (const ws of clients) ws.close()
    await bridge.close()
  }
} else {
  const url = process.env.REDIS_URL
  const subs = []
  await Promise.all(
    Array.from({ length: k }, async (_, i) => {
      seen[i] = 0
      const sub = new Redis(url, { lazyConnect: true })
      subs.push(sub)
      await sub.connect()
      sub.on('message', (_channel, text) => receive(i, text))
      await sub.subscribe('bench:push')
    }),
  )
  const pub = new Redis(url)
  write = (data) => pub.publish('bench:push', JSON.stringify(data))
  close = async () => {
    for (const s of subs) s.disconnect()
    pub.disconnect()
  }
}

let sent = 0
let failed = 0
let firstFailure
const period = 1000 / Number(rateArg)
const warmup = Number(warmArg)
const duration = Number(durArg)
const start = performance.now()
let i = 0
await new Promise((resolve) => {
  const tick = () => {
    const now = performance.now()
    const at = start + i * period
    if (now >= at) {
      i++
      measuring = now - start >= warmup
      if (now - start >= warmup + duration) return resolve()
      if (measuring) sent++
      write({ t: performance.now(), m: measuring, items: pad }).catch((err) => {
        failed++
        firstFailure ??= err
      })
    }
    setTimeout(tick, Math.max(0, start + i * period - performance.now()))
  }
  tick()
})
// Let the last changes arrive.
const deadline = performance.now() + 3000
while (seen.some((n) => n < sent) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10))
closing = true
const lost = seen.reduce((a, n) => a + Math.max(0, sent - n), 0)
await close()
if (failed > 0 || lost > 0) {
  console.error(`${failed} writes failed; ${lost} of ${sent * k} changes never reached a subscriber`)
  if (firstFailure) console.error(`first failed write: ${firstFailure.code ?? ''} ${firstFailure.message}`)
  process.exit(1)
}
latencies.sort((a, b) => a - b)
console.log(
  JSON.stringify({
    sent,
    deliveries: latencies.length,
    p50_us: percentile(latencies, 50),
    p99_us: percentile(latencies, 99),
    max_us: latencies[latencies.length - 1],
  }),
)
process.exit(0)
