// The seed's "Bridge Implementation" example, as written. It connects to an engine on the
// default address ws://127.0.0.1:49134 and serves POST /my-endpoint.
import { createBridge } from '@iii-dev/sdk'

// Create bridge instance
const bridge = createBridge({
  url: 'ws://127.0.0.1:49134',
})

// Connect to engine
await bridge.connect()

// Register a function
bridge.registerFunction({
  function_path: 'service.action',
  handler: async (data) => {
    return { result: 'success' }
  },
  description: 'My custom function',
})

// Register a trigger
bridge.registerTrigger({
  trigger_type: 'api',
  function_path: 'service.action',
  config: {
    api_path: '/my-endpoint',
    http_method: 'POST',
  },
})

// (not in the seed) The open connection keeps the process alive; say we are ready.
console.log('bridge-basic ready')
