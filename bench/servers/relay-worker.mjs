// The worker half of the two-process relay baseline.
import WebSocket from 'ws'

const ws = new WebSocket(process.env.RELAY_URL, { perMessageDeflate: false })
ws.on('message', (raw) => {
  const msg = JSON.parse(raw.toString())
  ws.send(JSON.stringify({ id: msg.id, result: { status: 200, body: { ok: true, echo: msg.request.body } } }))
})
ws.on('open', () => console.log('ready'))
