// B3 baseline: one of the 4 subscriber processes of the raw `ws` broadcast. For every fan-out
// size N in FANOUTS it opens the sockets i < N with i % WORKERS == INDEX to room N of
// BROADCAST_URL, parses every frame and counts it, like a subscriber worker does.
import WebSocket from 'ws'
import { serveIpc } from '../lib.mjs'

const index = Number(process.env.INDEX)
const workers = Number(process.env.WORKERS)
const fanouts = process.env.FANOUTS.split(',').map(Number)
let count = 0
let lastAt = 0
const opened = []
for (const n of fanouts) {
  for (let i = index; i < n; i += workers) {
    const ws = new WebSocket(`${process.env.BROADCAST_URL}/sub?room=${n}`, { perMessageDeflate: false })
    ws.on('message', (raw) => {
      const data = JSON.parse(raw.toString())
      if (typeof data?.seq !== 'number') throw new Error('bad broadcast payload')
      count++
      lastAt = performance.timeOrigin + performance.now()
    })
    opened.push(
      new Promise((resolve, reject) => {
        ws.on('open', resolve)
        ws.on('error', reject)
      }),
    )
  }
}
await Promise.all(opened)
serveIpc({
  count: () => ({ count, lastAt }),
  reset: () => {
    count = 0
    lastAt = 0
  },
})
console.log('ready')
