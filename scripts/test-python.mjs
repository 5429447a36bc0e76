// Runs the Python checks: ruff (lint and format check), mypy (strict) and the pytest suites of
// python/iii, python/motia and examples/python. Exits non-zero if any of them fails.
// `--no-lint` skips ruff and mypy, `--lint-only` runs just them; other arguments go to pytest (e.g. a test file or -k expr).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, '.venv', 'bin', name)

const run = (cmd, args) => {
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' })
  if (res.error) throw res.error
  return res.status ?? 1
}

if (!existsSync(bin('pytest'))) {
  const status = run(process.execPath, [join(root, 'scripts', 'setup-python.mjs')])
  if (status !== 0) process.exit(status)
}

let args = process.argv.slice(2)
const lint = !args.includes('--no-lint')
const lintOnly = args.includes('--lint-only')
args = args.filter((a) => a !== '--no-lint' && a !== '--lint-only')

if (lint) {
  const targets = ['python', 'examples/python']
  for (const [cmd, cmdArgs] of [
    [bin('ruff'), ['check', '--config', 'python/ruff.toml', ...targets]],
    [bin('ruff'), ['format', '--check', '--config', 'python/ruff.toml', ...targets]],
    [bin('mypy'), ['--config-file', 'python/mypy.ini', 'python/iii/src', 'python/motia/src']],
  ]) {
    const status = run(cmd, cmdArgs)
    if (status !== 0) process.exit(status)
  }
  if (lintOnly) process.exit(0)
}

const suites = ['python/iii/tests', 'python/motia/tests', 'examples/python']
const status = run(bin('pytest'), ['-c', 'python/pytest.ini', '--rootdir', '.', '-q', ...(args.length ? args : suites)])
// Exit code 5 means pytest collected no test: that is a failure here too.
process.exit(status)
