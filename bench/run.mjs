// One command for the benchmarks: `npm run bench` (full) or `npm run bench -- --smoke`.
// Options: --only B1,B2  --rounds N  --duration MS  --no-pin  --out DIR
// Baseline and candidate rounds alternate; the report (JSON + Markdown, with machine facts)
// goes to bench/results/ (a smoke run writes to bench/results/tmp/).
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { b1 } from './b1-http.mjs'
import { b2 } from './b2-invoke.mjs'
import { b3 } from './b3-fanout.mjs'
import { b4 } from './b4-state.mjs'
import { b5 } from './b5-cron.mjs'
import { b6 } from './b6-workers.mjs'
import { b7 } from './b7-coldstart.mjs'
import { b8 } from './b8-motia.mjs'
import { b9 } from './b9-durable.mjs'
import { b10 } from './b10-cluster.mjs'
import { b11 } from './b11-abuse.mjs'
import { fmt, machineFacts, root, stopAll } from './lib.mjs'
import { scalingTables } from './scaling.mjs'

const scenarios = { B1: b1, B2: b2, B3: b3, B4: b4, B5: b5, B6: b6, B7: b7, B8: b8, B9: b9, B10: b10, B11: b11 }
const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
})
const smoke = values.smoke
const opts = {
  smoke,
  rounds: Number(values.rounds ?? (smoke ? 1 : 3)),
  durationMs: Number(values.duration ?? (smoke ? 300 : 2000)),
  pin: !values['no-pin'] && cpus().length >= 2,
}
const selected = (values.only ?? Object.keys(scenarios).join(',')).split(',')
const outDir = values.out ?? join(root, smoke ? 'bench/results/tmp' : 'bench/results')
mkdirSync(outDir, { recursive: true })

const report = { machine: machineFacts(), options: opts, scenarios: [], failures: [] }
const started = Date.now()
try {
  for (const id of selected) {
    const run = scenarios[id]
    if (!run) throw new Error(`unknown scenario ${id}; known: ${Object.keys(scenarios).join(', ')}`)
    console.error(`running ${id} ...`)
    const t0 = Date.now()
    try {
      const result = await run(opts)
      result.seconds = (Date.now() - t0) / 1000
      report.scenarios.push(result)
      report.failures.push(...(result.failures ?? []))
    } catch (err) {
      // A scenario that saw the system misbehave (or could not run) fails the whole run, but
      // the others still run and the report still shows what they measured.
      console.error(`${id} failed: ${err.stack ?? err}`)
      report.failures.push(`${id}: ${err.message}`)
      stopAll()
    }
  }
} finally {
  stopAll()
}
report.seconds = (Date.now() - started) / 1000

/** A stat cell: the median and the spread over rounds, with digits that suit the size. */
const cell = (v) => {
  if (v === null || v === undefined) return ''
  if (typeof v !== 'object') return typeof v === 'number' ? fmtNum(v) : String(v)
  return v.rounds > 1 ? `${fmtNum(v.median)} (${fmtNum(v.min)}–${fmtNum(v.max)})` : fmtNum(v.median)
}
const fmtNum = (n) => (Number.isInteger(n) ? String(n) : fmt(n, Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2))

function table(rows) {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  const head = keys.map((k) =>
    rows.some((r) => typeof r[k] === 'object' && r[k]?.rounds > 1) ? `${k} median (min–max)` : k,
  )
  return [
    `| ${head.join(' | ')} |`,
    `|${keys.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${keys.map((k) => cell(r[k])).join(' | ')} |`),
  ]
}

const md = [
  `# Benchmark report`,
  '',
  `Commit ${report.machine.commit}${report.machine.dirty ? ' (dirty)' : ''}, ${report.machine.date}.`,
]
md.push(
  `Machine: ${report.machine.cores} cores (${report.machine.cpu_model}), ${report.machine.memory_gib} GiB, Node ${report.machine.node}.`,
)
md.push(
  `Rounds: ${opts.rounds} x ${opts.durationMs} ms, alternating baseline and candidate; load generator ${opts.pin ? 'pinned to CPU 1, systems under test to CPU 0' : 'not pinned'}. Took ${Math.round(report.seconds)} s.`,
  '',
)
if (report.failures.length > 0) {
  md.push('## FAILURES', '', ...report.failures.map((f) => `- ${f}`), '')
}
for (const s of report.scenarios) {
  md.push(`## ${s.id}: ${s.title}`, '', '| target | value | goal | met |', '|---|---|---|---|')
  for (const t of s.targets)
    md.push(`| ${t.name} | ${fmt(t.ratio)} | ${t.target} | ${t.met === null ? '—' : t.met ? 'yes' : '**no**'} |`)
  md.push('')
  for (const t of s.tables ?? [{ rows: s.rows }]) {
    if (t.title) md.push(`${t.title}:`, '')
    md.push(...table(t.rows), '')
  }
}
const scaling = scalingTables(report.scenarios)
if (scaling.length > 0) {
  md.push('## Scaling: how cost grows', '')
  md.push('Medians from the sections above, one table per dimension; ratio = iii / baseline.', '')
  for (const t of scaling) md.push(`${t.title}:`, '', ...table(t.rows), '')
}
writeFileSync(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(join(outDir, 'report.md'), `${md.join('\n')}\n`)
if (smoke) {
  // One line per scenario: a smoke round checks that each runs and loses nothing; its ratios
  // (one short round on a busy machine) are no verdict on the targets, so none is printed.
  for (const s of report.scenarios) {
    const failed = s.failures ?? []
    const verdict = failed.length === 0 ? 'no failures' : `FAILED: ${failed.join('; ')}`
    console.log(
      `${s.id} ran in ${fmt(s.seconds, 1)} s: ${s.targets.length} ratios in report.md, ${verdict} (${s.title})`,
    )
  }
} else {
  console.log(md.join('\n'))
}
console.error(`report written to ${outDir}/report.{json,md}`)
if (report.failures.length > 0) {
  console.error(`FAILED: ${report.failures.join('; ')}`)
  process.exit(1)
}
