// Baseline: a two-hop raw `ws` relay. Each client frame {id, data} is parsed, forwarded to the
// echo server (ECHO_URL) under the relay's own id, and the answer is routed back: the same
// envelope work an engine does, without anything else.
import WebSocket, { WebSocketServer } from 'ws'

const upstream = new WebSocket(process.env.ECHO_URL, { perMessageDeflate: false, maxPayload: 64 * 2 ** 20 })
const pending = new Map()
let next = 1
upstream.on('message', (raw) => {
  const msg = JSON.parse(raw.toString())
  const route = pending.get(msg.id)
  pending.delete(msg.id)
  route.client.send(JSON.stringify({ id: route.id, data: msg.data }))
})
upstream.on('open', () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 64 * 2 ** 20 })
  wss.on('connection', (client) =>
    client.on('message', (raw) => {
      const msg = JSON.parse(raw.toString())
      const id = next++
      pending.set(id, { client, id: msg.id })
      upstream.send(JSON.stringify({ id, data: msg.data }))
    }),
  )
  wss.on('listening', () => console.log(`ready ws://127.0.0.1:${wss.address().port}`))
})
