// B3 baseline: a raw `ws` broadcast server. Sockets on /sub?room=N join room N; every frame a
// publisher sends on /pub?room=N goes, as the same bytes, to every socket of room N, and the
// publisher then gets a one-byte ack (as `emit` answers once the engine took the event).
import { WebSocketServer } from 'ws'

const rooms = new Map()
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://x')
  const room = url.searchParams.get('room')
  if (url.pathname === '/sub') {
    if (!rooms.has(room)) rooms.set(room, new Set())
    rooms.get(room).add(ws)
    ws.on('close', () => rooms.get(room).delete(ws))
    return
  }
  ws.on('message', (data) => {
    for (const sub of rooms.get(room) ?? []) sub.send(data, { binary: false })
    ws.send('k')
  })
})
wss.on('listening', () => console.log(`ready ws://127.0.0.1:${wss.address().port}`))
