// The seed's "Node.js Stream Usage" example, as written. `new Stream('todos')` uses the
// default bridge, which connects to III_BRIDGE_URL (or ws://127.0.0.1:49134).
import { Stream } from '@iii-dev/sdk'

// Define stream
const todoStream = new Stream('todos')

// Set item
await todoStream.set('inbox', 'item-1', {
  title: 'Buy milk',
  completed: false,
})

// Get item
const item = await todoStream.get('inbox', 'item-1')

// Get all items in group
const allItems = await todoStream.getGroup('inbox')

// (not in the seed) Show what came back; the open connection keeps the process alive.
console.log(`item ${JSON.stringify(item)}`)
console.log(`allItems ${JSON.stringify(allItems)}`)
