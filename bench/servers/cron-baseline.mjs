// B5 baseline: a single-process setTimeout scheduler with the engine's parser (cron-parser):
// JOBS jobs every second, one timer per job to its next time, each job's times taken from one
// cron-parser iterator (parsed once; the engine re-parses for every tick, see the report), a
// tick that woke early re-armed, ticks missed during a stall skipped; plus, for the loaded
// case, the bare node:http echo server of B1 in the same process.

import { CronExpressionParser } from 'cron-parser'
import { serveIpc } from '../lib.mjs'
import { CronRecorder } from './cron-stats.mjs'
import { createEchoServer } from './echo-http.mjs'

const jobs = Number(process.env.JOBS)
const recorder = new CronRecorder()
function schedule(job) {
  setTimeout(() => tick(job), Math.max(0, job.next - Date.now()))
}
function tick(job) {
  const now = Date.now()
  if (now < job.next) return schedule(job) // woke early
  recorder.record(job.id, job.next, now)
  job.next = job.times.next().getTime()
  if (job.next <= now) {
    job.times = CronExpressionParser.parse('* * * * * *', { currentDate: new Date(now), tz: 'UTC' })
    job.next = job.times.next().getTime()
  }
  schedule(job)
}
const start = new Date()
for (let i = 0; i < jobs; i++) {
  const times = CronExpressionParser.parse('* * * * * *', { currentDate: start, tz: 'UTC' })
  schedule({ id: `job-${i}`, times, next: times.next().getTime() })
}

const server = createEchoServer()
serveIpc({ window: (msg) => recorder.window({ ...msg, jobs }) })
server.listen(0, '127.0.0.1', () => console.log(`ready http://127.0.0.1:${server.address().port}`))
