// B6 baseline: a raw `ws` server holding idle sockets; it echoes a frame (the clients' one
// round trip that says they are connected) and otherwise does nothing.
import { WebSocketServer } from 'ws'

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data, { binary: false })))
wss.on('listening', () => console.log(`ready ws://127.0.0.1:${wss.address().port}`))
