// B3 publisher: on IPC `run {n, ms}` it publishes events to fan-out size n for `ms`, keeping
// WINDOW publishes unacknowledged at most, and answers {sent, t0} (t0: wall clock, ms, when the
// first one left). SYSTEM=iii emits through the engine (BRIDGE_URL); SYSTEM=ws sends to the
// raw broadcast server (BROADCAST_URL), which acks each frame once it is broadcast.
import { createBridge } from '@iii-dev/sdk'
import WebSocket from 'ws'
import { serveIpc } from '../lib.mjs'
import { makePayload } from './payload.mjs'

const system = process.env.SYSTEM
const fanouts = process.env.FANOUTS.split(',').map(Number)
const window = Number(process.env.WINDOW ?? 16)
const pad = makePayload(Number(process.env.BYTES ?? 300)).items
const publish = {}
if (system === 'iii') {
  const bridge = createBridge({ workerName: 'bench-publisher', forwardLogs: false, logLevel: 'warn' })
  await bridge.connect()
  for (const n of fanouts) publish[n] = (data) => bridge.emit(`fan.${n}`, data)
} else {
  for (const n of fanouts) {
    const ws = new WebSocket(`${process.env.BROADCAST_URL}/pub?room=${n}`, { perMessageDeflate: false })
    await new Promise((resolve, reject) => {
      ws.on('open', resolve)
      ws.on('error', reject)
    })
    const acks = []
    ws.on('message', () => acks.shift()())
    publish[n] = (data) =>
      new Promise((resolve) => {
        acks.push(resolve)
        ws.send(JSON.stringify(data))
      })
  }
}

let seq = 0
serveIpc({
  run: async ({ n, ms }) => {
    let sent = 0
    let stop = false
    const t0 = performance.timeOrigin + performance.now()
    const timer = setTimeout(() => (stop = true), ms)
    const lane = async () => {
      while (!stop) {
        sent++
        await publish[n]({ seq: seq++, items: pad })
      }
    }
    await Promise.all(Array.from({ length: window }, lane))
    clearTimeout(timer)
    return { sent, t0 }
  },
})
console.log('ready')
