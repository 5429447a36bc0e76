/**
 * `motia create <dir>`: a small project that runs at once with `npx motia dev` (or, with
 * `--python`, Python steps served by `python -m motia run`). Works wherever motia is installed:
 * inside this repository or in any project that installed the packed tarballs.
 *
 * Dependencies are portable. The packages are not on the npm registry under these names (and
 * the registry's `motia` is an unrelated project), so by default the project gets its own copy
 * of them: `npm pack` of the installed motia, SDK, engine and protocol into `<dir>/vendor/`,
 * referred to by relative `file:vendor/...` paths (no absolute path, no clone needed; the
 * folder can move or be committed). `--registry` writes exact versions instead, for when the
 * packages come from a registry.
 */
import { spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { nodeFiles, nodeReadme } from './templates/node.js'
import { pythonFiles, pythonReadme, type Wheels } from './templates/python.js'

/** This motia package's directory (`dist/create.js` -> the package). */
const motiaDir = realpathSync(dirname(dirname(fileURLToPath(import.meta.url))))

/** The directory of package `name` as resolved from `fromDir` (walks up from its main file). */
function packageDir(name: string, fromDir: string): string {
  let dir = dirname(createRequire(join(fromDir, 'package.json')).resolve(name))
  for (;;) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === name) return realpathSync(dir)
    const up = dirname(dir)
    if (up === dir) throw new Error(`cannot find the package directory of ${name}`)
    dir = up
  }
}

/** The installed iii packages a project needs: motia, the SDK, the engine and the protocol. */
export function localPackages(): Record<string, string> {
  const sdk = packageDir('@iii-dev/sdk', motiaDir)
  return {
    motia: motiaDir,
    '@iii-dev/sdk': sdk,
    '@iii-dev/engine': packageDir('@iii-dev/engine', motiaDir),
    '@iii-dev/protocol': packageDir('@iii-dev/protocol', sdk),
  }
}

function version(dir: string): string {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
}

function run(cmd: string, args: string[], cwd: string, stdio: 'inherit' | 'pipe' = 'pipe'): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', stdio, stdio] })
  if (r.error !== undefined) throw new Error(`${cmd} could not run: ${r.error.message}`)
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (exit ${r.status ?? r.signal})\n${r.stderr ?? ''}`)
  }
  return r.stdout ?? ''
}

/** `npm pack` of each package into `vendor/`; the dependency specs that point at them. */
function vendorNodePackages(root: string, packages: Record<string, string>): Record<string, string> {
  const vendor = join(root, 'vendor')
  mkdirSync(vendor, { recursive: true })
  const info = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', vendor, ...Object.values(packages)], root),
  ) as Array<{ name: string; filename: string }>
  const deps: Record<string, string> = {}
  for (const t of info) deps[t.name] = `file:vendor/${t.filename}`
  return deps
}

/**
 * The `iii` and `motia` wheels for a Python project, copied into `vendor/`: from the `wheels/`
 * folder packed into the motia tarball (`npm run pack`), else built from the sources when motia
 * runs inside the iii repository.
 */
function vendorWheels(root: string): Wheels {
  const vendor = join(root, 'vendor')
  mkdirSync(vendor, { recursive: true })
  const packed = join(motiaDir, 'wheels')
  const repoPython = resolve(motiaDir, '..', '..', 'python')
  if (existsSync(packed)) {
    for (const name of readdirSync(packed).filter((n) => n.endsWith('.whl'))) {
      writeFileSync(join(vendor, name), readFileSync(join(packed, name)))
    }
  } else if (existsSync(join(repoPython, 'motia', 'pyproject.toml'))) {
    const venvPython = resolve(repoPython, '..', '.venv', 'bin', 'python')
    const python = existsSync(venvPython) ? venvPython : 'python3'
    // built from temporary copies, so pip writes nothing into the repository
    const stage = mkdtempSync(join(tmpdir(), 'motia-wheels-'))
    try {
      const sources = ['iii', 'motia'].map((pkg) => {
        const copy = join(stage, pkg)
        cpSync(join(repoPython, pkg), copy, {
          recursive: true,
          filter: (src) => !/(^|\/)(build|tests|__pycache__|[^/]*\.egg-info)$/.test(src),
        })
        return copy
      })
      const isolation =
        spawnSync(python, ['-c', 'import setuptools'], { stdio: 'ignore' }).status === 0 ? ['--no-build-isolation'] : []
      run(python, ['-m', 'pip', 'wheel', '--quiet', '--no-deps', ...isolation, '--wheel-dir', vendor, ...sources], root)
    } finally {
      rmSync(stage, { recursive: true, force: true })
    }
  } else {
    throw new Error(`no Python wheels next to motia (${packed}): install motia from a tarball made by npm run pack`)
  }
  const find = (pkg: string): string => {
    const name = readdirSync(vendor).find((n) => n.startsWith(`${pkg}-`) && n.endsWith('.whl'))
    if (name === undefined) throw new Error(`no ${pkg} wheel in ${vendor}`)
    return name
  }
  return { iii: find('iii'), motia: find('motia') }
}

export interface CreateOptions {
  /** Run `npm install` (and, for Python, create `.venv` and pip install) in the new project. Default true. */
  install?: boolean
  /** Write a Python step project instead of a TypeScript one. */
  python?: boolean
  /** Depend on exact registry versions instead of vendored tarballs. */
  registry?: boolean
  log?: (line: string) => void
}

/** Writes the project; refuses a directory that exists and is not empty. */
export function createProject(dir: string, options: CreateOptions = {}): void {
  const root = resolve(dir)
  const log = options.log ?? ((l: string) => process.stdout.write(`${l}\n`))
  if (existsSync(root) && readdirSync(root).length > 0) {
    throw new Error(`${root} already exists and is not empty`)
  }
  mkdirSync(root, { recursive: true })
  const name =
    basename(root)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-') || 'motia-app'
  const packages = localPackages()
  let deps: Record<string, string> = {}
  if (options.registry) for (const [pkg, path] of Object.entries(packages)) deps[pkg] = version(path)
  else deps = vendorNodePackages(root, packages)
  if (!options.python) deps.zod = '4.6.7'
  const pkg = {
    name,
    version: '0.0.0',
    private: true,
    type: 'module',
    scripts: options.python ? { engine: 'iii --data-dir .motia/data' } : { dev: 'motia dev', start: 'motia start' },
    dependencies: Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b))),
    // better-sqlite3 (the engine's store) builds its native addon at install time.
    allowScripts: { 'better-sqlite3': true, esbuild: true },
  }
  const all: Record<string, string> = { 'package.json': `${JSON.stringify(pkg, null, 2)}\n` }
  if (options.python) {
    Object.assign(all, { 'README.md': pythonReadme(name) }, pythonFiles(vendorWheels(root)))
  } else {
    Object.assign(all, { 'README.md': nodeReadme(name) }, nodeFiles)
  }
  for (const [rel, text] of Object.entries(all)) {
    const p = join(root, rel)
    mkdirSync(dirname(p), { recursive: true })
    writeFileSync(p, text)
  }
  log(`created ${root}`)
  if (options.install !== false) {
    log('running npm install ...')
    run('npm', ['install', '--no-audit', '--no-fund'], root, 'inherit')
    if (options.python) {
      log('creating .venv and installing requirements.txt ...')
      run('python3', ['-m', 'venv', '.venv'], root, 'inherit')
      run(join(root, '.venv', 'bin', 'pip'), ['install', '--quiet', '-r', 'requirements.txt'], root, 'inherit')
    }
  }
  const next = [`cd ${dir}`]
  if (options.install === false) {
    next.push('npm install')
    if (options.python) next.push('python3 -m venv .venv && .venv/bin/pip install -r requirements.txt')
  }
  if (options.python)
    next.push('npx iii --data-dir .motia/data     # then, in another terminal:', '.venv/bin/python -m motia run steps')
  else next.push('npx motia dev')
  log(`\nnext:\n  ${next.join('\n  ')}`)
}
