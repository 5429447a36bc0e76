// The report's "scaling" section: how cost grows with routes, workers, subscribers and payload
// size, one table per dimension, taken from the rows B1, B2, B3 and B6 already measured.
// A dimension whose scenario did not run (or ran in smoke mode with one value) is left out.

const med = (row, k) => row?.[k]?.median
const ratio = (a, b) => (a === undefined || b === undefined ? undefined : a / b)
const rowsOf = (s) => s.tables?.flatMap((t) => t.rows) ?? s.rows

export function scalingTables(scenarios) {
  const by = Object.fromEntries(scenarios.map((s) => [s.id, rowsOf(s)]))
  const tables = []
  if (by.B1) {
    const rows = []
    for (const r of by.B1.filter((r) => /^iii_\d+_routes$/.test(r.system))) {
      const bare = by.B1.find((b) => b.system === 'bare' && b.concurrency === r.concurrency)
      rows.push({
        routes: Number(r.system.split('_')[1]),
        concurrency: r.concurrency,
        iii_rps: med(r, 'rps'),
        bare_rps: med(bare, 'rps'),
        ratio: ratio(med(r, 'rps'), med(bare, 'rps')),
        iii_p50_us: med(r, 'p50_us'),
      })
    }
    rows.sort((a, b) => a.concurrency - b.concurrency || a.routes - b.routes)
    if (new Set(rows.map((r) => r.routes)).size > 1) tables.push({ title: 'Routes (B1, HTTP api trigger)', rows })
  }
  if (by.B6) {
    const rows = by.B6.filter((r) => r.system === 'iii').map((r) => {
      const ws = by.B6.find((w) => w.system === 'ws' && w.workers === r.workers)
      return {
        workers: r.workers,
        engine_kb_per_worker: med(r, 'rss_per_worker_kb'),
        ws_kb_per_socket: med(ws, 'rss_per_worker_kb'),
        register_ms: med(r, 'register_ms'),
        ws_connect_ms: med(ws, 'register_ms'),
        invoke_p50_us_alone: med(r, 'invoke_p50_us_1'),
        invoke_p50_us_with_all: med(r, 'invoke_p50_us_n'),
      }
    })
    if (rows.length > 0) tables.push({ title: 'Connected workers (B6)', rows })
  }
  if (by.B3) {
    const emit = by.B3.filter((r) => r.system === 'iii' && r.subscribers !== undefined).map((r) => {
      const ws = by.B3.find((w) => w.system === 'ws' && w.subscribers === r.subscribers)
      const per = med(r, 'deliveries_per_s')
      return {
        subscribers: r.subscribers,
        iii_deliveries_per_s: per,
        ws_deliveries_per_s: med(ws, 'deliveries_per_s'),
        ratio: ratio(per, med(ws, 'deliveries_per_s')),
        iii_events_per_s: per / r.subscribers,
      }
    })
    if (emit.length > 0) tables.push({ title: 'Event subscribers (B3, emit fan-out)', rows: emit })
    const stream = by.B3.filter((r) => r.system === 'iii' && r.clients !== undefined).map((r) => {
      const redis = by.B3.find((w) => w.system === 'redis' && w.clients === r.clients)
      return {
        clients: r.clients,
        iii_p50_us: med(r, 'p50_us'),
        iii_p99_us: med(r, 'p99_us'),
        redis_p99_us: med(redis, 'p99_us'),
        ratio_p99: ratio(med(r, 'p99_us'), med(redis, 'p99_us')),
      }
    })
    if (stream.length > 0) tables.push({ title: 'Stream clients (B3, stream push)', rows: stream })
  }
  if (by.B2) {
    const rows = by.B2.filter((r) => r.system === 'iii' && r.in_flight === 1).map((r) => {
      const echo = by.B2.find((e) => e.system === 'echo' && e.in_flight === 1 && e.payload_bytes === r.payload_bytes)
      return {
        payload_bytes: r.payload_bytes,
        iii_p50_us: med(r, 'p50_us'),
        echo_p50_us: med(echo, 'p50_us'),
        ratio: ratio(med(r, 'p50_us'), med(echo, 'p50_us')),
        added_us: med(r, 'p50_us') - med(echo, 'p50_us'),
      }
    })
    if (rows.length > 1) tables.push({ title: 'Payload size (B2, invoke at 1 in flight)', rows })
  }
  return tables
}
