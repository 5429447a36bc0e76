// A soak worker (bench/soak.mjs). Every worker serves the same functions, so calls are shared
// round robin and a worker that dies takes its share down with it:
//   soak.echo          invoke: returns its input
//   soak.createOrder   POST /soak/orders: stores the order in state, emits `soak.order`
//                      (a durable event; acknowledged = stored), answers 201 once both are done
//   soak.onOrder       `soak.order` subscriber: marks the order delivered in state and sets
//                      it in the `soak` stream (the stream clients watch it)
// ROLE=steady also owns the triggers (the route and the subscription), so they outlive the
// churning workers, which the coordinator stops with SIGTERM or SIGKILL and starts again.
import { createBridge } from '@iii-dev/sdk'

const role = process.env.ROLE ?? 'steady'
const bridge = createBridge({ workerName: `soak-${role}`, forwardLogs: false, logLevel: 'warn' })
const state = (op, data) => bridge.invokeFunction(`state.${op}`, data)

bridge.registerFunction({ function_path: 'soak.echo', handler: (data) => data })
bridge.registerFunction({
  function_path: 'soak.createOrder',
  handler: async (req) => {
    const order = req.body
    if (typeof order?.id !== 'string') return { status: 400, body: { error: 'id must be a string' } }
    await state('set', { group_id: 'soak-orders', item_id: order.id, data: order })
    await bridge.emit('soak.order', { id: order.id })
    return { status: 201, body: { id: order.id } }
  },
})
bridge.registerFunction({
  function_path: 'soak.onOrder',
  handler: async ({ id }) => {
    await state('set', { group_id: 'soak-delivered', item_id: id, data: { by: role } })
    await bridge.invokeFunction('streams.set', {
      stream_name: 'soak',
      group_id: 'orders',
      item_id: String(Number.parseInt(id.slice(-6), 36) % 100),
      data: { last: id },
    })
  },
})
if (role === 'steady') {
  bridge.registerTrigger({
    trigger_type: 'api',
    function_path: 'soak.createOrder',
    config: { api_path: '/soak/orders', http_method: 'POST' },
  })
  bridge.registerTrigger({ trigger_type: 'event', function_path: 'soak.onOrder', config: { topic: 'soak.order' } })
}
await bridge.connect()
console.log('ready')
