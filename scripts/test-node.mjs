// Runs every Node test file (packages/*/test/**/*.test.ts, examples/**/*.test.ts, scripts/test/*.test.ts) with node's
// test runner through tsx. Extra arguments are passed on (e.g. a file path to run just that).
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const roots = ['packages', 'examples', 'scripts']
const files = []
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (name.endsWith('.test.ts') && p.includes('/test')) files.push(p)
  }
}
for (const r of roots) walk(r)
const args = process.argv.slice(2)
const targets = args.length > 0 ? args : files.sort()
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...targets],
  { stdio: 'inherit' },
)
process.exit(res.status ?? 1)
