// B7: a worker's cold start. It offers one function, connects, and calls that function through
// the engine; "served" means the worker is connected, registered and has served a call.
import { createBridge } from '@iii-dev/sdk'

const bridge = createBridge({ workerName: 'bench-cold', forwardLogs: false, logLevel: 'warn' })
bridge.registerFunction({ function_path: 'bench.cold', handler: (data) => data })
await bridge.connect()
const r = await bridge.invokeFunction('bench.cold', { n: 1 })
if (r?.n !== 1) throw new Error(`unexpected answer ${JSON.stringify(r)}`)
console.log('served')
await bridge.close()
process.exit(0)
