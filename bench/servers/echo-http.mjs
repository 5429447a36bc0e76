// The JSON work every HTTP baseline does, as the candidate's handler does it: parse the body,
// answer {ok, echo}.
import { createServer } from 'node:http'

export function createEchoServer() {
  return createServer({ noDelay: true, keepAlive: true }, (req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : null
      const out = JSON.stringify({ ok: true, echo: body })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) })
      res.end(out)
    })
  })
}
