// A Node.js worker for the Python interop tests (run from the repo root with
// `node --import tsx examples/python/interop/node_worker.ts`, III_BRIDGE_URL set).
//   node.greet        calls the Python function py.upper and answers with a greeting
//   node.on_created   handles the `interop.created` event and reports it to py.record
import { createBridge, getContext } from '@iii-dev/sdk'

const bridge = createBridge({ url: process.env.III_BRIDGE_URL, workerName: 'interop-node' })

bridge.registerFunction({
  function_path: 'node.greet',
  handler: async (data: { name: string }) => {
    const upper = await bridge.invokeFunction<string>('py.upper', { text: data.name })
    return { greeting: `Hello, ${upper}`, trace_id: getContext()?.traceId }
  },
})

bridge.registerFunction({
  function_path: 'node.on_created',
  handler: async (data: unknown) => {
    await bridge.invokeFunction('py.record', { data, trace_id: getContext()?.traceId })
    return null
  },
})

bridge.registerTrigger({
  trigger_type: 'event',
  function_path: 'node.on_created',
  config: { topic: 'interop.created' },
})

await bridge.connect()
console.log('node ready')
