// No lost calls (issue 14): TOTAL `invokeFunction` calls, IN_FLIGHT at a time, from one worker
// to another through the engine; every call must come back with its own payload. Prints JSON:
// {calls, answered, wrong, failed: {code: count}, seconds}.
// Usage: node count-calls.mjs <bridgeUrl> <inFlight> <total>
import { createBridge } from '@iii-dev/sdk'

const [url, nArg, totalArg] = process.argv.slice(2)
const total = Number(totalArg)
const bridge = createBridge({ url, workerName: 'bench-count', forwardLogs: false, logLevel: 'warn' })
await bridge.connect()
let next = 0
let answered = 0
let wrong = 0
const failed = {}
const lane = async () => {
  while (next < total) {
    const n = next++
    try {
      const got = await bridge.invokeFunction('bench.echo.raw', { n }, { timeoutMs: 30_000 })
      if (got?.n === n) answered++
      else wrong++
    } catch (err) {
      failed[err.code ?? 'unknown'] = (failed[err.code ?? 'unknown'] ?? 0) + 1
    }
  }
}
const t0 = performance.now()
await Promise.all(Array.from({ length: Number(nArg) }, lane))
const seconds = (performance.now() - t0) / 1000
await bridge.close()
console.log(JSON.stringify({ calls: total, answered, wrong, failed, seconds }))
process.exit(0)
