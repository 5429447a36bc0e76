// Creates the project-local Python virtual environment `.venv` with both Python packages
// installed editable (python/iii, python/motia) plus the pinned test and lint tools
// (python/requirements-dev.txt). Run by `npm install` (the root `prepare` script).
// Idempotent: a stamp in .venv records a hash of the inputs; when nothing changed it is a no-op.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const venv = join(root, '.venv')
const py = join(venv, 'bin', 'python')
const stampFile = join(venv, '.iii-setup-stamp')
const inputs = ['python/requirements-dev.txt', 'python/iii/pyproject.toml', 'python/motia/pyproject.toml']

const run = (cmd, args) => {
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' })
  if (res.error) throw res.error
  if (res.status !== 0) {
    console.error(`setup-python: '${cmd} ${args.join(' ')}' failed (exit ${res.status})`)
    process.exit(res.status ?? 1)
  }
}

const python3 = process.env.PYTHON ?? 'python3'
const version = spawnSync(python3, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
  encoding: 'utf8',
})
if (version.status !== 0) {
  console.error(`setup-python: ${python3} not found; Python 3.11 or newer is required`)
  process.exit(1)
}
const [major, minor] = version.stdout.trim().split('.').map(Number)
if (major < 3 || (major === 3 && minor < 11)) {
  console.error(`setup-python: Python 3.11 or newer is required, found ${version.stdout.trim()}`)
  process.exit(1)
}

const hash = createHash('sha256')
hash.update(version.stdout)
for (const file of inputs) hash.update(readFileSync(join(root, file)))
const stamp = hash.digest('hex')

const tools = ['pytest', 'ruff', 'mypy'].map((t) => join(venv, 'bin', t))
const importable = () =>
  existsSync(py) &&
  tools.every((t) => existsSync(t)) &&
  spawnSync(py, ['-c', 'import iii, motia'], { cwd: root }).status === 0

if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && importable()) {
  console.log('setup-python: .venv is up to date')
  process.exit(0)
}

if (!existsSync(py)) run(python3, ['-m', 'venv', venv])
const pip = [join(venv, 'bin', 'pip'), '--disable-pip-version-check', '--quiet']
run(pip[0], [...pip.slice(1), 'install', '-r', 'python/requirements-dev.txt'])
// No build isolation: the pinned setuptools in the venv builds the editable installs (no fetch).
run(pip[0], [...pip.slice(1), 'install', '--no-build-isolation', '-e', 'python/iii', '-e', 'python/motia'])
if (!importable()) {
  console.error('setup-python: the packages do not import after installation')
  process.exit(1)
}
writeFileSync(stampFile, stamp)
console.log('setup-python: .venv ready (iii, motia, pytest, ruff, mypy)')
