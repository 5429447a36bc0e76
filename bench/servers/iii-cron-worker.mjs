// B5 candidate: a worker with JOBS cron jobs (`* * * * * *`, every second), each on a function
// of its own (a cron job is function, expression and time zone: triggers that share all three
// fire once per tick); it records each fire's payload times and its own receive time.
import { createBridge } from '@iii-dev/sdk'
import { serveIpc } from '../lib.mjs'
import { CronRecorder } from './cron-stats.mjs'

const jobs = Number(process.env.JOBS)
const recorder = new CronRecorder()
const bridge = createBridge({ workerName: 'bench-cron', forwardLogs: false, logLevel: 'warn' })
const handler = (data, ctx) => {
  recorder.record(ctx.trigger.id, Date.parse(data.scheduled_time), Date.parse(data.actual_time))
  return null
}
for (let i = 0; i < jobs; i++) {
  bridge.registerFunction({ function_path: `bench.cron.tick.${i}`, handler })
  bridge.registerTrigger({
    id: `bench-cron-${i}`,
    trigger_type: 'cron',
    function_path: `bench.cron.tick.${i}`,
    config: { expression: '* * * * * *' },
  })
}
await bridge.connect()
for (;;) {
  const { triggers } = await bridge.invokeFunction('engine.triggers.list', {})
  if (triggers.filter((t) => t.function_path.startsWith('bench.cron.tick.')).length >= jobs) break
  await new Promise((r) => setTimeout(r, 20))
}
serveIpc({ window: (msg) => recorder.window({ ...msg, jobs }) })
console.log('ready')
