// B5: cron precision with 1, 100 and 1000 jobs firing every second (6-field expression), idle
// and under B1's HTTP load (c=32 against an echo route), against a single-process setTimeout
// scheduler with the same parser. Each measurement starts the receiver fresh, waits for the
// next whole second, lets one tick pass and judges every tick scheduled in the next W seconds.
// Lateness is actual_time - scheduled_time from the payload (ms resolution: the payload has ISO
// strings) and, end to end, the receiver's clock at the handler - scheduled_time.
// A missed or duplicated fire is a failure of the run (reported, with the numbers).
import { join } from 'node:path'
import { root, runJson, startEngine, startProcess, summarize } from './lib.mjs'

const LOAD_CONNECTIONS = 32

export async function b5({ rounds, smoke, pin }) {
  const cpuSut = pin ? 0 : undefined
  const cpuLoad = pin ? 1 : undefined
  const jobCounts = smoke ? [100] : [1, 100, 1000]
  const loads = ['idle', 'http']
  const seconds = smoke ? 2 : 3
  const failures = []
  const samples = {}
  const engine = await startEngine({ cpu: cpuSut })
  let echo
  try {
    echo = await startProcess(join(root, 'bench/servers/iii-worker.mjs'), [], {
      env: { III_BRIDGE_URL: engine.bridgeUrl },
      cpu: cpuSut,
    })
    const systems = {
      setTimeout: (jobs) =>
        startProcess(join(root, 'bench/servers/cron-baseline.mjs'), [], {
          env: { JOBS: String(jobs) },
          cpu: cpuSut,
          ipc: true,
        }).then((p) => ({ ...p, httpUrl: `${p.output().match(/http:\S+/)[0]}/echo` })),
      iii: (jobs) =>
        startProcess(join(root, 'bench/servers/iii-cron-worker.mjs'), [], {
          env: { III_BRIDGE_URL: engine.bridgeUrl, JOBS: String(jobs) },
          cpu: cpuSut,
          ipc: true,
          timeoutMs: 60_000,
        }).then((p) => ({ ...p, httpUrl: `${engine.apiUrl}/echo` })),
    }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['setTimeout', 'iii'] : ['iii', 'setTimeout']
      for (const jobs of jobCounts) {
        for (const load of loads) {
          for (const name of order) {
            const receiver = await systems[name](jobs)
            try {
              // Skip the first tick: it measures a freshly started process, not the scheduler.
              const from = Math.ceil((Date.now() + 300) / 1000) * 1000 + 1000
              const to = from + seconds * 1000
              let http
              if (load === 'http') {
                const warm = Math.max(0, from - Date.now() - 200)
                http = runJson(
                  join(root, 'bench/load/http-load.mjs'),
                  [receiver.httpUrl, String(LOAD_CONNECTIONS), String(to - from + 400), String(warm)],
                  { cpu: cpuLoad },
                )
              }
              await new Promise((r) => setTimeout(r, to - Date.now() + 50))
              // Collect every tick of the window (a late one still counts as late, not missed).
              const deadline = Date.now() + 3000
              let w
              do {
                await new Promise((r) => setTimeout(r, 100))
                w = await receiver.request({ cmd: 'window', from, to })
              } while (w.fires < w.expected && Date.now() < deadline)
              const h = http && (await http)
              if (h && (h.non2xx > 0 || h.errors > 0))
                throw new Error(`B5 ${name}: the HTTP load got ${h.non2xx} non-2xx and ${h.errors} errors`)
              if (w.missed > 0 || w.duplicates > 0)
                failures.push(
                  `B5 ${name}, ${jobs} jobs, ${load}: ${w.missed} missed and ${w.duplicates} duplicate fires of ${w.expected} ticks`,
                )
              const key = `${name}@${jobs}@${load}`
              samples[key] ??= {}
              for (const k of Object.keys(w).filter((k) => k.endsWith('_us') || k === 'missed' || k === 'duplicates'))
                (samples[key][k] ??= []).push(w[k])
              if (h) (samples[key].http_rps ??= []).push(h.rps)
            } finally {
              await receiver.stop()
            }
          }
        }
      }
    }
  } finally {
    await echo?.stop()
    await engine.stop()
  }
  const rows = Object.entries(samples).map(([key, s]) => {
    const [system, jobs, load] = key.split('@')
    const row = { system, jobs: Number(jobs), load: load === 'http' ? `HTTP c=${LOAD_CONNECTIONS}` : 'idle' }
    for (const k of [
      'lateness_p50_us',
      'lateness_p99_us',
      'received_p50_us',
      'received_p99_us',
      'received_max_us',
      'missed',
      'duplicates',
      'http_rps',
    ])
      if (s[k]) row[k] = summarize(s[k])
    return row
  })
  const worst = (system, load, field) =>
    Math.max(...rows.filter((r) => r.system === system && r.load.startsWith(load)).map((r) => r[field].median))
  const idle = worst('iii', 'idle', 'lateness_p99_us') / 1000
  const loaded = worst('iii', 'HTTP', 'lateness_p99_us') / 1000
  const targets = [
    { name: 'lateness p99 idle, worst job count (ms, payload)', ratio: idle, target: '<= 2 ms', met: idle <= 2 },
    {
      name: 'lateness p99 under HTTP load, worst job count (ms, payload)',
      ratio: loaded,
      target: '<= 10 ms',
      met: loaded <= 10,
    },
    {
      name: 'received p99 idle, worst job count (ms, at the worker)',
      ratio: worst('iii', 'idle', 'received_p99_us') / 1000,
      target: '(reference)',
      met: null,
    },
    {
      name: 'received p99 under HTTP load, worst job count (ms, at the worker)',
      ratio: worst('iii', 'HTTP', 'received_p99_us') / 1000,
      target: '(reference)',
      met: null,
    },
    {
      name: 'lateness p99 idle vs setTimeout scheduler (worst job count)',
      ratio: worst('iii', 'idle', 'received_p99_us') / worst('setTimeout', 'idle', 'received_p99_us'),
      target: '(reference)',
      met: null,
    },
  ]
  const bad = rows.filter((r) => r.system === 'iii' && (r.missed.max > 0 || r.duplicates.max > 0)).length
  targets.push({ name: 'missed + duplicate fires (iii rows with any)', ratio: bad, target: '0', met: bad === 0 })
  return { id: 'B5', title: 'cron precision', rows, targets, failures }
}
