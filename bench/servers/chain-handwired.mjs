// B8 baseline: the Motia chain hand-wired in one process. node:http takes POST /chain, an
// EventEmitter carries `chain.started`, a Map is the state and the stream store, and a `ws`
// server pushes each change to the clients that joined the group, in the engine's stream
// message format (docs/state-and-streams.md), so one client serves both systems.
import { EventEmitter } from 'node:events'
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'

const bus = new EventEmitter()
const state = new Map()
const stream = new Map()
const watchers = new Map() // "stream/group" -> Set of sockets

bus.on('chain.started', (input) => {
  const run = { id: input.id, status: 'recorded' }
  state.set(`chain/${input.id}`, run)
  const key = `chain/runs`
  const type = stream.has(`${key}/${input.id}`) ? 'update' : 'create'
  stream.set(`${key}/${input.id}`, run)
  const text = JSON.stringify({
    timestamp: Date.now(),
    streamName: 'chain',
    groupId: 'runs',
    id: input.id,
    event: { type, data: run },
  })
  for (const ws of watchers.get(key) ?? []) ws.send(text)
})

const server = createServer({ noDelay: true, keepAlive: true }, (req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/chain') {
      res.writeHead(404).end()
      return
    }
    const body = JSON.parse(Buffer.concat(chunks).toString())
    bus.emit('chain.started', { id: String(body.id) })
    const out = JSON.stringify({ id: body.id })
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) })
    res.end(out)
  })
})

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
wss.on('connection', (ws) => {
  ws.on('message', (raw) => {
    const { type, data } = JSON.parse(raw.toString())
    if (type !== 'join') return
    const key = `${data.streamName}/${data.groupId}`
    if (!watchers.has(key)) watchers.set(key, new Set())
    watchers.get(key).add(ws)
    ws.on('close', () => watchers.get(key).delete(ws))
    const items = [...stream].filter(([k]) => k.startsWith(`${key}/`)).map(([, v]) => v)
    ws.send(
      JSON.stringify({
        timestamp: Date.now(),
        streamName: data.streamName,
        groupId: data.groupId,
        subscriptionId: data.subscriptionId,
        event: { type: 'sync', data: items },
      }),
    )
  })
})
wss.on('listening', () =>
  server.listen(0, '127.0.0.1', () =>
    console.log(`ready http://127.0.0.1:${server.address().port} ws://127.0.0.1:${wss.address().port}`),
  ),
)
