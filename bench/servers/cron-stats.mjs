// B5: what a cron receiver records and how a measurement window is judged. Shared by the
// engine's cron worker and the setTimeout baseline so both are scored the same way.
import { percentile } from '../lib.mjs'

/** Wall clock with sub-millisecond resolution, comparable across processes on one machine. */
export const wallMs = () => performance.timeOrigin + performance.now()

export class CronRecorder {
  fires = [] // {job, scheduled, actual, received} (ms since the epoch)

  record(job, scheduled, actual) {
    this.fires.push({ job, scheduled, actual, received: wallMs() })
  }

  /**
   * Judges the ticks scheduled in [from, to) (whole seconds, every job fires every second):
   * lateness from the payload (actual - scheduled) and at the receiver (received -
   * scheduled), missed ticks (a job without a fire for a second) and duplicates.
   */
  window({ from, to, jobs }) {
    const inWindow = this.fires.filter((f) => f.scheduled >= from && f.scheduled < to)
    const seconds = Math.round((to - from) / 1000)
    const seen = new Set()
    let duplicates = 0
    for (const f of inWindow) {
      const key = `${f.job}@${f.scheduled}`
      if (seen.has(key)) duplicates++
      seen.add(key)
    }
    const payload = inWindow.map((f) => (f.actual - f.scheduled) * 1000).sort((a, b) => a - b)
    const received = inWindow.map((f) => (f.received - f.scheduled) * 1000).sort((a, b) => a - b)
    return {
      fires: inWindow.length,
      expected: seconds * jobs,
      missed: seconds * jobs - seen.size,
      duplicates,
      lateness_p50_us: percentile(payload, 50),
      lateness_p99_us: percentile(payload, 99),
      received_p50_us: percentile(received, 50),
      received_p99_us: percentile(received, 99),
      received_max_us: received[received.length - 1] ?? Number.NaN,
    }
  }
}
