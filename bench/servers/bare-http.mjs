// Baseline: a bare node:http server doing the handler's JSON work in one process.
import { createServer } from 'node:http'

const server = createServer({ noDelay: true, keepAlive: true }, (req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : null
    const out = JSON.stringify({ ok: true, echo: body })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) })
    res.end(out)
  })
})
server.listen(0, '127.0.0.1', () => console.log(`ready http://127.0.0.1:${server.address().port}`))
