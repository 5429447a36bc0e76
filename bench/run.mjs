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
import { fmt, machineFacts, root, stopAll } from './lib.mjs'

const scenarios = { B1: b1, B2: b2 }
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

const report = { machine: machineFacts(), options: opts, scenarios: [] }
try {
  for (const id of selected) {
    const run = scenarios[id]
    if (!run) throw new Error(`unknown scenario ${id}; known: ${Object.keys(scenarios).join(', ')}`)
    console.error(`running ${id} ...`)
    report.scenarios.push(await run(opts))
  }
} finally {
  stopAll()
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
  `Rounds: ${opts.rounds} x ${opts.durationMs} ms, alternating baseline and candidate; load generator ${opts.pin ? 'pinned to CPU 1, systems under test to CPU 0' : 'not pinned'}.`,
  '',
)
for (const s of report.scenarios) {
  md.push(`## ${s.id}: ${s.title}`, '', '| target | ratio | goal | met |', '|---|---|---|---|')
  for (const t of s.targets)
    md.push(`| ${t.name} | ${fmt(t.ratio)} | ${t.target} | ${t.met === null ? '—' : t.met ? 'yes' : '**no**'} |`)
  md.push('')
  const keys = Object.keys(s.rows[0]).filter((k) => typeof s.rows[0][k] !== 'object')
  const stats = Object.keys(s.rows[0]).filter((k) => typeof s.rows[0][k] === 'object')
  md.push(`| ${[...keys, ...stats.map((k) => `${k} median (min–max)`)].join(' | ')} |`)
  md.push(`|${[...keys, ...stats].map(() => '---').join('|')}|`)
  for (const r of s.rows) {
    md.push(
      `| ${[...keys.map((k) => r[k]), ...stats.map((k) => `${fmt(r[k].median, 0)} (${fmt(r[k].min, 0)}–${fmt(r[k].max, 0)})`)].join(' | ')} |`,
    )
  }
  md.push('')
}
writeFileSync(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(join(outDir, 'report.md'), `${md.join('\n')}\n`)
console.log(md.join('\n'))
console.error(`report written to ${outDir}/report.{json,md}`)
