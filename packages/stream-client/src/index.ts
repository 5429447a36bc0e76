/**
 * `@iii-dev/stream-client`: follow iii streams live from a browser or Node.
 *
 * ```ts
 * const client = new StreamClient('ws://127.0.0.1:3112')   // Node 20: { WebSocket } from 'ws'
 * const todos = client.subscribeGroup<Todo>('todos', 'inbox')
 * todos.onChange((items) => render(items))
 * todos.onEvent('typing', (e) => showTyping(e.data))
 * const one = client.subscribeItem<Todo>('todos', 'inbox', 't1')
 * todos.close(); client.close()
 * ```
 */
export {
  type ConnectionStatus,
  StreamClient,
  type StreamClientOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client.js'
export { type CustomEvent, parseServerMessage, type ServerMessage } from './protocol.js'
export { GroupSubscription, ItemSubscription, type Subscription } from './subscription.js'
