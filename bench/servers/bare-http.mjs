// Baseline: a bare node:http server doing the handler's JSON work in one process.
import { createEchoServer } from './echo-http.mjs'

const server = createEchoServer()
server.listen(0, '127.0.0.1', () => console.log(`ready http://127.0.0.1:${server.address().port}`))
