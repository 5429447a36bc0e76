import { join } from 'node:path'
import { Bridge } from '@iii-dev/sdk'
import { repoRoot, startEngine, startWorker } from '@iii-dev/testkit'

const fixtures = join(repoRoot, 'packages/engine/test/fixtures')
const cl = []
const t = { after: (f) => cl.push(f) }
const e = await startEngine(t, {
  args: ['--tracing'],
  env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_BSP_SCHEDULE_DELAY: '100' },
})
const env = { III_BRIDGE_URL: e.bridgeUrl }
const py = startWorker(t, join(fixtures, 'trace_py_worker.py'), env)
await py.waitFor('trace python worker ready').catch((x) => console.log('py', String(x)))
const nw = startWorker(t, join(fixtures, 'trace-node-worker.mjs'), env)
await nw.waitFor('trace node worker ready').catch((x) => console.log('node', String(x)))
const r = await fetch(`${e.apiUrl}/orders`, {
  method: 'POST',
  headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  body: JSON.stringify({ item: 'tea' }),
})
console.log(r.status, await r.text())
await new Promise((r) => setTimeout(r, 500))
const c = new Bridge(e.bridgeUrl, { logLevel: 'silent' })
await c.connect()
console.log(
  JSON.stringify(await c.invokeFunction('traces.get', { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }), null, 1).slice(
    0,
    3000,
  ),
)
console.log(e.output().slice(-2000))
await c.close()
for (const f of cl.reverse()) await f()
