// B3 candidate: one of the 4 subscriber workers. For every fan-out size N in FANOUTS it offers
// the functions i < N with i % WORKERS == INDEX, each subscribed (event trigger) to topic
// `fan.N`. Counts deliveries; the coordinator reads and resets the count over IPC.
import { createBridge } from '@iii-dev/sdk'
import { serveIpc } from '../lib.mjs'

const index = Number(process.env.INDEX)
const workers = Number(process.env.WORKERS)
const fanouts = process.env.FANOUTS.split(',').map(Number)
const bridge = createBridge({ workerName: `bench-sub-${index}`, forwardLogs: false, logLevel: 'warn' })
let count = 0
let lastAt = 0
const handler = (data) => {
  if (typeof data?.seq !== 'number') throw new Error('bad event payload')
  count++
  lastAt = performance.timeOrigin + performance.now()
  return null
}
let mine = 0
for (const n of fanouts) {
  for (let i = index; i < n; i += workers) {
    const function_path = `fan.w${index}.n${n}.${i}`
    bridge.registerFunction({ function_path, handler })
    bridge.registerTrigger({ trigger_type: 'event', function_path, config: { topic: `fan.${n}` } })
    mine++
  }
}
await bridge.connect()
for (;;) {
  const { triggers } = await bridge.invokeFunction('engine.triggers.list', {})
  if (triggers.filter((t) => t.function_path.startsWith(`fan.w${index}.`)).length >= mine) break
  await new Promise((r) => setTimeout(r, 20))
}
serveIpc({
  count: () => ({ count, lastAt }),
  reset: () => {
    count = 0
    lastAt = 0
  },
})
console.log('ready')
