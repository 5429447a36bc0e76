// A closed-loop HTTP load generator with microsecond latencies: C keep-alive connections,
// one request in flight on each (no pipelining), TCP_NODELAY, for a fixed time after a warm-up.
// Usage: node http-load.mjs <url> <connections> <durationMs> [warmupMs] ; body from LOAD_BODY.
// Prints one JSON line: {requests, rps, p50_us, p99_us, non2xx, errors}.
import { connect } from 'node:net'
import { percentile } from '../lib.mjs'

const [url, connArg, durArg, warmArg] = process.argv.slice(2)
const { hostname, port, pathname } = new URL(url)
const connections = Number(connArg)
const duration = Number(durArg)
const warmup = Number(warmArg ?? 500)
const body = process.env.LOAD_BODY ?? '{"hello":"world","n":1}'
const method = process.env.LOAD_METHOD ?? 'POST'
const request = Buffer.from(
  `${method} ${pathname} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
)

const latencies = []
let non2xx = 0
let errors = 0
let measuring = false
let done = false

function runConnection() {
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), noDelay: true })
    let buf = Buffer.alloc(0)
    let started = 0n
    const send = () => {
      if (done) return socket.end(resolve)
      started = process.hrtime.bigint()
      socket.write(request)
    }
    socket.on('connect', send)
    socket.on('error', () => {
      errors++
      resolve()
    })
    socket.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      for (;;) {
        const headEnd = buf.indexOf('\r\n\r\n')
        if (headEnd < 0) return
        const head = buf.subarray(0, headEnd).toString('latin1')
        const status = Number(head.slice(9, 12))
        const m = /content-length:\s*(\d+)/i.exec(head)
        let total
        if (m) total = headEnd + 4 + Number(m[1])
        else if (/transfer-encoding:\s*chunked/i.test(head)) {
          const end = buf.indexOf('\r\n0\r\n\r\n', headEnd)
          if (end < 0) return
          total = end + 7
        } else total = headEnd + 4
        if (buf.length < total) return
        buf = buf.subarray(total)
        if (measuring) {
          latencies.push(Number(process.hrtime.bigint() - started) / 1000)
          if (status < 200 || status > 299) non2xx++
        }
        send()
      }
    })
  })
}

const runs = Array.from({ length: connections }, runConnection)
await new Promise((r) => setTimeout(r, warmup))
measuring = true
const t0 = process.hrtime.bigint()
await new Promise((r) => setTimeout(r, duration))
measuring = false
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9
done = true
await Promise.race([Promise.all(runs), new Promise((r) => setTimeout(r, 2000))])
latencies.sort((a, b) => a - b)
console.log(
  JSON.stringify({
    requests: latencies.length,
    rps: latencies.length / elapsed,
    p50_us: percentile(latencies, 50),
    p99_us: percentile(latencies, 99),
    non2xx,
    errors,
  }),
)
process.exit(0)
