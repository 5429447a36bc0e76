// Baseline: a raw `ws` echo server.
import { WebSocketServer } from 'ws'

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 64 * 2 ** 20 })
wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data, { binary: false })))
wss.on('listening', () => console.log(`ready ws://127.0.0.1:${wss.address().port}`))
