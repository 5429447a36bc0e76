// Closed-loop iii load: N `invokeFunction` calls in flight from one worker to another through
// the engine. Usage: node iii-client.mjs <bridgeUrl> <inFlight> <payloadBytes> <durationMs> [warmupMs]
import { createBridge } from '@iii-dev/sdk'
import { printLatencies } from '../lib.mjs'
import { makePayload } from './payload.mjs'

const [url, nArg, bytesArg, durArg, warmArg] = process.argv.slice(2)
const data = makePayload(Number(bytesArg))
const bridge = createBridge({ url, workerName: 'bench-client', forwardLogs: false, logLevel: 'warn' })
await bridge.connect()
const latencies = []
let measuring = false
let done = false
const loop = async () => {
  while (!done) {
    const t = process.hrtime.bigint()
    await bridge.invokeFunction('bench.echo.raw', data)
    if (measuring) latencies.push(Number(process.hrtime.bigint() - t) / 1000)
  }
}
const loops = Array.from({ length: Number(nArg) }, loop)
await new Promise((r) => setTimeout(r, Number(warmArg ?? 500)))
measuring = true
const t0 = process.hrtime.bigint()
await new Promise((r) => setTimeout(r, Number(durArg)))
measuring = false
done = true
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9
await Promise.all(loops)
printLatencies(latencies, elapsed)
process.exit(0)
