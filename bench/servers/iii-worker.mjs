// The candidate's worker: `bench.echo` served over the iii bridge, bound to POST /echo, plus
// ROUTES-1 more routes to measure routing with many routes; `bench.echo.raw` for B2.
import { createBridge } from '@iii-dev/sdk'

const bridge = createBridge({ workerName: 'bench', forwardLogs: false, logLevel: 'warn' })
bridge.registerFunction({
  function_path: 'bench.echo',
  handler: (req) => ({ status: 200, body: { ok: true, echo: req.body } }),
})
bridge.registerTrigger({
  trigger_type: 'api',
  function_path: 'bench.echo',
  config: { api_path: '/echo', http_method: 'POST' },
})
const routes = Number(process.env.ROUTES ?? 1)
for (let i = 1; i < routes; i++) {
  bridge.registerTrigger({
    trigger_type: 'api',
    function_path: 'bench.echo',
    config: { api_path: `/r${i}/items/:id`, http_method: i % 2 ? 'GET' : 'POST' },
  })
}
bridge.registerFunction({ function_path: 'bench.echo.raw', handler: (data) => data })
const t0 = performance.now()
await bridge.connect()
// Wait until the last route is live before saying ready (and say how long that took).
for (;;) {
  const { triggers } = await bridge.invokeFunction('engine.triggers.list', {})
  if (triggers.length >= routes) break
  await new Promise((r) => setTimeout(r, 5))
}
console.log(`routes live in ${(performance.now() - t0).toFixed(1)} ms`)
console.log('ready')
