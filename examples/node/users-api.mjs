// The seed's "Complete Examples: Node.js Example", as written. Serves POST /users through the
// engine's HTTP API; connects to III_BRIDGE_URL (or ws://127.0.0.1:49134).
import { createBridge } from '@iii-dev/sdk'

const bridge = createBridge()

// Register function
bridge.registerFunction({
  function_path: 'users.create',
  handler: async (data) => {
    const user = { id: '123', ...data }
    return { status: 201, body: user }
  },
})

// Register API trigger
bridge.registerTrigger({
  trigger_type: 'api',
  function_path: 'users.create',
  config: {
    api_path: '/users',
    http_method: 'POST',
  },
})

// Connect and run
await bridge.connect()

// (not in the seed) The open connection keeps the process alive; say we are ready.
console.log('users-api ready')
