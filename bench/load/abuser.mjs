// Abusive bridge connections for B11: N sockets that send only bad frames (invalid JSON, unknown
// types, frames that decode but are wrong) at a total rate, for a while, reading every answer.
// Usage: node abuser.mjs <bridgeUrl> <connections> <framesPerSecond, 0 = as fast as they can> <durationMs>
// Prints "ready" once every socket is open and sending, then one JSON line when done:
// {sent, per_s, errors (error answers received, 300 ms after the last frame), closes}. A socket the engine closes is opened again at once.
import WebSocket from 'ws'

const [url, nArg, rateArg, durArg] = process.argv.slice(2)
const connections = Number(nArg)
const rate = Number(rateArg)
const durationMs = Number(durArg)

// A rotating mix; each one is a frame the engine must refuse (an `error` frame) or answer
// with an error result, never act on.
const bad = [
  '{"type":"invokefunction","invocation_id":', // cut short
  'not json at all',
  '{"type":"nosuchframe","id":"x"}', // unknown type
  '[1,2,3]', // JSON, not an object
  '{"type":"registerfunction"}', // no function_path
  '{"type":"registertrigger","id":7,"trigger_type":"api"}', // wrongly typed fields
  '{"type":"workerregistered","worker_id":"w-1"}', // a frame only the engine sends
  '{"type":"invokefunction","invocation_id":"a1","function_path":"no.such.function","data":{}}', // valid, wrong target
  `{"type":"invokefunction","function_path":${'['.repeat(600)}${']'.repeat(600)}}`, // nested too deep
  '{"type":"registercondition","function_path":"x"}', // no condition path
]

let sent = 0
let errors = 0
let closes = 0
let stopping = false
const sockets = []

function open(i) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    ws.on('message', (raw) => {
      const text = raw.toString()
      if (text.includes('"error"')) errors++
    })
    ws.on('open', () => {
      sockets[i] = ws
      resolve()
    })
    ws.on('error', () => {})
    ws.on('close', () => {
      sockets[i] = null
      if (stopping) return
      closes++
      void open(i)
    })
  })
}

await Promise.all(Array.from({ length: connections }, (_, i) => open(i)))
const t0 = performance.now()
let next = 0

/** Sends `n` bad frames spread over the open sockets; skips a socket whose buffer is backed up. */
function burst(n) {
  for (let k = 0; k < n; k++) {
    const ws = sockets[(sent + k) % connections]
    if (ws === null || ws === undefined || ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > 1 << 20) continue
    ws.send(bad[next++ % bad.length])
    sent++
  }
}

if (rate > 0) {
  // Paced: every 5 ms, what the rate owes since the start (so a late timer catches up).
  const timer = setInterval(() => burst(Math.floor((rate * (performance.now() - t0)) / 1000) - sent), 5)
  setTimeout(() => clearInterval(timer), durationMs)
} else {
  // Flat out: one batch per event-loop turn while the sockets' buffers drain.
  const loop = () => {
    if (performance.now() - t0 >= durationMs) return
    burst(64 * connections)
    setImmediate(loop)
  }
  loop()
}
console.log('ready')
await new Promise((r) => setTimeout(r, durationMs))
const elapsed = (performance.now() - t0) / 1000
stopping = true
await new Promise((r) => setTimeout(r, 300)) // the last answers
for (const ws of sockets) ws?.terminate()
console.log(JSON.stringify({ sent, per_s: sent / elapsed, errors, closes }))
process.exit(0)
