// B8 load: open loop. Fires POST /chain {id} at a fixed rate (no pipelining: a request goes on
// an idle keep-alive connection, or a new one), and one stream client, joined to the `chain`
// stream's group `runs`, waits for each id. Latency: from the request leaving to the stream
// message carrying its id. Every chain must arrive exactly once, or this exits 1.
// Usage: node chain-load.mjs <httpUrl> <streamsUrl> <ratePerS> <durationMs> <warmupMs>
// Prints {chains, p50_us, p99_us, max_us, http_p50_us, http_p99_us}.
import { connect } from 'node:net'
import WebSocket from 'ws'
import { percentile } from '../lib.mjs'

const [httpUrl, streamsUrl, rateArg, durArg, warmArg] = process.argv.slice(2)
const { hostname, port } = new URL(httpUrl)
const fail = (message) => {
  console.error(message)
  process.exit(1)
}

const started = new Map() // id -> {at, measured}
const seen = new Set()
const e2e = []
const http = []
const ws = new WebSocket(streamsUrl, { perMessageDeflate: false })
await new Promise((resolve, reject) => {
  ws.on('error', reject)
  ws.on('open', () =>
    ws.send(JSON.stringify({ type: 'join', data: { subscriptionId: 'b8', streamName: 'chain', groupId: 'runs' } })),
  )
  ws.on('message', (raw) => {
    const msg = JSON.parse(raw.toString())
    if (msg.event.type === 'sync') return resolve()
    if (msg.event.type !== 'create' && msg.event.type !== 'update') return
    const s = started.get(msg.id)
    if (s === undefined) return // a run from an earlier round of the same system
    if (seen.has(msg.id)) fail(`chain ${msg.id} reached the stream client twice`)
    seen.add(msg.id)
    if (s.measured) e2e.push((performance.now() - s.at) * 1000)
  })
})
ws.on('close', () => fail('the stream socket closed'))

const idle = []
function request(id, at, measured) {
  const body = JSON.stringify({ id })
  const bytes = Buffer.from(
    `POST /chain HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
  )
  // The engine, like node:http, closes a keep-alive connection idle for 5 s; one idle longer
  // than 4 s is closed here instead of being written to as the server closes it.
  let socket = idle.pop()
  while (socket !== undefined && performance.now() - socket.idleSince > 4000) {
    socket.destroy()
    socket = idle.pop()
  }
  socket ??= newSocket()
  socket.inFlight = { at, measured }
  socket.write(bytes)
}
function newSocket() {
  const socket = connect({ host: hostname, port: Number(port), noDelay: true })
  let buf = Buffer.alloc(0)
  socket.on('error', (err) => fail(`HTTP connection: ${err.message}`))
  socket.on('close', () => {
    if (socket.inFlight) fail('the engine closed an HTTP connection with a request on it')
    const at = idle.indexOf(socket)
    if (at >= 0) idle.splice(at, 1)
  })
  socket.on('data', (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    const headEnd = buf.indexOf('\r\n\r\n')
    if (headEnd < 0) return
    const head = buf.subarray(0, headEnd).toString('latin1')
    const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
    if (buf.length < headEnd + 4 + length) return
    const status = Number(head.slice(9, 12))
    if (status < 200 || status > 299) fail(`POST /chain answered ${status}: ${buf.toString()}`)
    buf = buf.subarray(headEnd + 4 + length)
    if (socket.inFlight.measured) http.push((performance.now() - socket.inFlight.at) * 1000)
    socket.inFlight = null
    socket.idleSince = performance.now()
    idle.push(socket)
  })
  return socket
}

const run = `${process.pid}-${Date.now()}`
const period = 1000 / Number(rateArg)
const warmup = Number(warmArg)
const duration = Number(durArg)
const start = performance.now()
let measuredCount = 0
await new Promise((resolve) => {
  let i = 0
  const tick = () => {
    for (;;) {
      const at = start + i * period
      if (performance.now() < at) break
      if (at - start >= warmup + duration) return resolve()
      const measured = at - start >= warmup
      if (measured) measuredCount++
      const id = `${run}-${i++}`
      // From the moment it leaves: the requests do not wait for each other (a busy connection
      // means a new one), so this leaves out only this process's own timer lateness.
      const sent = performance.now()
      started.set(id, { at: sent, measured })
      request(id, sent, measured)
    }
    setTimeout(tick, Math.max(0, start + i * period - performance.now()))
  }
  tick()
})
const deadline = performance.now() + 5000
while (seen.size < started.size && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10))
if (seen.size < started.size)
  fail(`${started.size - seen.size} of ${started.size} chains never reached the stream client`)
e2e.sort((a, b) => a - b)
http.sort((a, b) => a - b)
console.log(
  JSON.stringify({
    chains: measuredCount,
    p50_us: percentile(e2e, 50),
    p99_us: percentile(e2e, 99),
    max_us: e2e[e2e.length - 1],
    http_p50_us: percentile(http, 50),
    http_p99_us: percentile(http, 99),
  }),
)
process.exit(0)
