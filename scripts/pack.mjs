// `npm run pack`: installable tarballs of every public Node package (`npm pack`) and wheels of
// both Python packages (`pip wheel --no-deps`) in dist/ (or `--out <dir>`). Expects a build
// (`npm run pack` runs `npm run build` first). Before packing it checks that the packages
// depend on each other by real version ranges the siblings satisfy: no `file:`, `link:` or
// `workspace:` specs, so the tarballs install together from a folder
// (`npm install ./dist/*.tgz`) with their other dependencies from the registry.
// `--node-only` / `--python-only` make one kind only.
//
// Prints one line per artifact, then a JSON summary line `{"tarballs": [...], "wheels": [...]}`.
import { spawnSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({
  options: { out: { type: 'string' }, 'node-only': { type: 'boolean' }, 'python-only': { type: 'boolean' } },
})
const out = resolve(values.out ?? join(root, 'dist'))

/** The public workspace packages, in the root package.json's order. */
export function publicPackages() {
  const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  return rootPkg.workspaces
    .map((dir) => ({ dir: join(root, dir), pkg: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) }))
    .filter((p) => p.pkg.private !== true)
}

/** Refuses specs that only resolve inside this repository, and ranges a sibling does not meet. */
function checkDependencies(packages) {
  const versions = new Map(packages.map((p) => [p.pkg.name, p.pkg.version]))
  const problems = []
  for (const { dir, pkg } of packages) {
    for (const [dep, spec] of Object.entries({ ...pkg.dependencies, ...pkg.peerDependencies })) {
      if (/^(file|link|workspace|portal):/.test(spec)) problems.push(`${pkg.name} depends on ${dep} by "${spec}"`)
      else if (versions.has(dep) && spec !== versions.get(dep) && spec !== `^${versions.get(dep)}`) {
        problems.push(`${pkg.name} depends on ${dep}@${spec} but the workspace has ${versions.get(dep)}`)
      }
    }
    if (!existsSync(join(dir, pkg.main ?? 'dist/index.js'))) {
      problems.push(`${pkg.name} is not built (run npm run build)`)
    }
  }
  if (problems.length > 0) throw new Error(`cannot pack:\n  ${problems.join('\n  ')}`)
}

function run(cmd, args, cwd = root) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`)
  return r.stdout
}

/** The Python that builds the wheels: the project's .venv, else python3. */
function python() {
  const venv = join(root, '.venv', 'bin', 'python')
  return existsSync(venv) ? venv : 'python3'
}

const packages = publicPackages()
checkDependencies(packages)
mkdirSync(out, { recursive: true })
for (const name of readdirSync(out)) {
  if (name.endsWith('.tgz') || name.endsWith('.whl')) rmSync(join(out, name))
}

// Wheels first: the motia tarball carries them (in wheels/), so `motia create --python` works
// wherever the tarball is installed. Both are built from temporary copies (of the Python
// sources, of the motia package), so nothing is written into the tree and two packs can run
// at once.
const stage = mkdtempSync(join(tmpdir(), 'iii-pack-'))
const wheels = []
const tarballs = []
try {
  if (!values['node-only']) {
    // --no-deps: only our two packages; their dependencies (pydantic, websockets) come from
    // PyPI at install time. Without build isolation when this Python has setuptools (the
    // project venv does); else pip fetches setuptools from PyPI into an isolated environment.
    const py = python()
    const isolation =
      spawnSync(py, ['-c', 'import setuptools'], { stdio: 'ignore' }).status === 0 ? ['--no-build-isolation'] : []
    const sources = ['iii', 'motia'].map((pkg) => {
      const copy = join(stage, 'python', pkg)
      cpSync(join(root, 'python', pkg), copy, {
        recursive: true,
        filter: (src) => !/(^|\/)(build|tests|__pycache__|[^/]*\.egg-info)$/.test(src),
      })
      return copy
    })
    run(py, ['-m', 'pip', 'wheel', '--quiet', '--no-deps', ...isolation, '--wheel-dir', out, ...sources])
    for (const name of readdirSync(out).filter((n) => n.endsWith('.whl'))) wheels.push(join(out, name))
  }
  if (!values['python-only']) {
    const dirs = packages.map(({ dir, pkg }) => {
      if (pkg.name !== 'motia' || wheels.length === 0) return dir
      const copy = join(stage, 'motia')
      for (const f of ['package.json', 'README.md', ...pkg.files]) {
        if (existsSync(join(dir, f))) cpSync(join(dir, f), join(copy, f), { recursive: true })
      }
      mkdirSync(join(copy, 'wheels'), { recursive: true })
      for (const w of wheels) copyFileSync(w, join(copy, 'wheels', basename(w)))
      return copy
    })
    for (const t of JSON.parse(run('npm', ['pack', '--json', '--pack-destination', out, ...dirs]))) {
      tarballs.push(join(out, t.filename))
      console.log(`${t.filename}  ${t.entryCount} files, ${(t.size / 1024).toFixed(0)} KiB`)
    }
  }
} finally {
  rmSync(stage, { recursive: true, force: true })
}
for (const w of wheels) console.log(basename(w))
console.log(JSON.stringify({ tarballs, wheels }))
