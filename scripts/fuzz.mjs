// npm run fuzz -- --seconds N: runs the frame fuzz and the HTTP fuzz (packages/engine/test/*-fuzz.test.ts)
// again and again with fresh random seeds and more cases per run, until N seconds have passed
// (default 300). Every run prints its seed; a failing run prints the command that replays it and
// the script exits 1. The test suite itself runs the same files with fixed seeds.
import { spawnSync } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '300' }, runs: { type: 'string', default: '10000' } },
})
const seconds = Number(values.seconds)
const runs = Number(values.runs)
if (!(seconds > 0) || !(runs > 0)) {
  console.error('usage: npm run fuzz -- [--seconds N (default 300)] [--runs cases per file and run (default 10000)]')
  process.exit(2)
}
const files = ['packages/engine/test/frame-fuzz.test.ts', 'packages/engine/test/http-fuzz.test.ts']
const until = Date.now() + seconds * 1000
let round = 0
let cases = 0
do {
  const seed = randomInt(2 ** 31)
  round++
  console.log(`fuzz round ${round}: FUZZ_SEED=${seed} FUZZ_RUNS=${runs}`)
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
    { stdio: 'inherit', env: { ...process.env, FUZZ_SEED: String(seed), FUZZ_RUNS: String(runs) } },
  )
  if (res.status !== 0) {
    console.error(`\nfuzz round ${round} failed; replay it with:`)
    console.error(`  FUZZ_SEED=${seed} FUZZ_RUNS=${runs} node scripts/test-node.mjs ${files.join(' ')}`)
    process.exit(1)
  }
  cases += runs * files.length
} while (Date.now() < until)
console.log(`fuzz: ${round} rounds, ${cases} cases (frames and HTTP requests), no failure`)
