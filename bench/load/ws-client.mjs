// Closed-loop WebSocket load: N frames {id, data} in flight against an echo server or relay.
// Usage: node ws-client.mjs <url> <inFlight> <payloadBytes> <durationMs> [warmupMs]
import WebSocket from 'ws'
import { printLatencies } from '../lib.mjs'
import { makePayload } from './payload.mjs'

const [url, nArg, bytesArg, durArg, warmArg] = process.argv.slice(2)
const data = makePayload(Number(bytesArg))
const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 2 ** 20 })
const starts = new Map()
const latencies = []
let measuring = false
let done = false
let next = 1
const send = () => {
  if (done) return
  const id = next++
  starts.set(id, process.hrtime.bigint())
  ws.send(JSON.stringify({ id, data }))
}
ws.on('message', (raw) => {
  const msg = JSON.parse(raw.toString())
  const t = starts.get(msg.id)
  starts.delete(msg.id)
  if (measuring) latencies.push(Number(process.hrtime.bigint() - t) / 1000)
  send()
})
await new Promise((r) => ws.on('open', r))
for (let i = 0; i < Number(nArg); i++) send()
await new Promise((r) => setTimeout(r, Number(warmArg ?? 500)))
measuring = true
const t0 = process.hrtime.bigint()
await new Promise((r) => setTimeout(r, Number(durArg)))
measuring = false
done = true
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9
printLatencies(latencies, elapsed)
process.exit(0)
