// The quick-start app: one Node worker with an HTTP API, an event chain and a cron job.
//
//   curl -X POST localhost:3111/orders -H 'content-type: application/json' -d '{"item":"tea","amount":3}'
//   curl localhost:3111/orders/<id>
//   curl localhost:3111/stats
//
// POST /orders stores the order and emits `order.placed`; `orders.notify` hears it and emits
// `order.notified`; `orders.audit` hears that and counts it. A cron job logs the totals every
// ten seconds. Everything a handler logs carries the trace id of the request that started it.
import { randomUUID } from 'node:crypto'
import { createBridge, logger as log } from '@iii-dev/sdk'

const bridge = createBridge({ workerName: 'quickstart' })
const orders = new Map()
let audited = 0

bridge.registerFunction({
  function_path: 'orders.create',
  description: 'Places an order',
  handler: async (req) => {
    const { item, amount } = req.body ?? {}
    if (typeof item !== 'string' || item === '') {
      return { status: 400, body: { error: 'invalid_order', message: 'body.item must be a non-empty string' } }
    }
    const order = { id: randomUUID(), item, amount: Number(amount) || 1, placed_at: new Date().toISOString() }
    orders.set(order.id, order)
    log.info('order placed', { id: order.id })
    await bridge.emit('order.placed', order)
    return { status: 201, body: order }
  },
})
bridge.registerTrigger({
  trigger_type: 'api',
  function_path: 'orders.create',
  config: { api_path: '/orders', http_method: 'POST' },
})

bridge.registerFunction({
  function_path: 'orders.get',
  handler: async (req) => {
    const order = orders.get(req.path_params.id)
    return order
      ? { status: 200, body: order }
      : { status: 404, body: { error: 'not_found', message: 'no such order' } }
  },
})
bridge.registerTrigger({
  trigger_type: 'api',
  function_path: 'orders.get',
  config: { api_path: '/orders/:id', http_method: 'GET' },
})

bridge.registerFunction({
  function_path: 'orders.stats',
  handler: async () => ({ status: 200, body: { orders: orders.size, audited } }),
})
bridge.registerTrigger({
  trigger_type: 'api',
  function_path: 'orders.stats',
  config: { api_path: '/stats', http_method: 'GET' },
})

bridge.registerFunction({
  function_path: 'orders.notify',
  handler: async (order) => {
    log.info('notifying customer', { id: order.id, item: order.item })
    await bridge.emit('order.notified', { id: order.id })
  },
})
bridge.registerTrigger({ trigger_type: 'event', function_path: 'orders.notify', config: { topic: 'order.placed' } })

bridge.registerFunction({
  function_path: 'orders.audit',
  handler: async ({ id }) => {
    audited++
    log.info('order audited', { id, audited })
  },
})
bridge.registerTrigger({ trigger_type: 'event', function_path: 'orders.audit', config: { topic: 'order.notified' } })

bridge.registerFunction({
  function_path: 'reports.tick',
  handler: async ({ scheduled_time }) => {
    log.info('report', { at: scheduled_time, orders: orders.size, audited })
  },
})
bridge.registerTrigger({
  trigger_type: 'cron',
  function_path: 'reports.tick',
  config: { expression: '*/10 * * * * *' },
})

await bridge.connect()
console.log('quickstart app connected')
