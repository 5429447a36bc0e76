// Baseline: a minimal two-process relay. This HTTP front sends each request over one
// WebSocket to relay-worker.mjs and answers with what comes back.
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
let worker
const pending = new Map()
let next = 1
wss.on('connection', (ws) => {
  worker = ws
  ws.on('message', (raw) => {
    const msg = JSON.parse(raw.toString())
    const res = pending.get(msg.id)
    pending.delete(msg.id)
    const out = JSON.stringify(msg.result.body)
    res.writeHead(msg.result.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) })
    res.end(out)
  })
  console.log(`ready http://127.0.0.1:${server.address().port}`)
})
const server = createServer({ noDelay: true, keepAlive: true }, (req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const id = next++
    pending.set(id, res)
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : null
    worker.send(JSON.stringify({ id, request: { method: req.method, path: req.url, headers: req.headers, body } }))
  })
})
server.listen(0, '127.0.0.1', () => console.log(`ws ws://127.0.0.1:${wss.address().port}`))
