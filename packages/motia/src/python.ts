/**
 * The Python half of a mixed project: when the project has `*_step.py` / `*.step.py` files,
 * `motia dev` / `motia start` run them with Python Motia (`python -m motia dev|run <root>`)
 * on the same engine, restart it when it crashes, and stop it when Motia stops.
 *
 * The interpreter is, in order: `MOTIA_PYTHON`; the project's `.venv` (or `venv`); the first
 * `.venv` found walking up from the project, then from where this package is installed (a
 * clone of the repository); `python3` on PATH. It must be able to `import motia`, else
 * Motia says which interpreter it tried and how to install the package.
 *
 * The child gets its stdin as a pipe and exits when that pipe closes, so it ends with this
 * process even when this process is killed with SIGKILL.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const SKIP = new Set(['node_modules', '.git', '.motia', 'dist', '.venv', 'venv', '__pycache__'])
const PY_STEP = /(_step|\.step)\.py$/

/** True when `root` has at least one Python step file (skipping node_modules, .venv, ...). */
export function hasPythonSteps(root: string): boolean {
  const walk = (dir: string): boolean => {
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      return false
    }
    for (const name of names) {
      if (name.startsWith('.') && name !== '.') continue
      const p = join(dir, name)
      let dirent: ReturnType<typeof statSync>
      try {
        dirent = statSync(p)
      } catch {
        continue
      }
      if (dirent.isDirectory()) {
        if (!SKIP.has(name) && walk(p)) return true
      } else if (PY_STEP.test(name)) return true
    }
    return false
  }
  return walk(root)
}

function venvPython(dir: string): string | undefined {
  for (const v of ['.venv', 'venv']) {
    const p = join(dir, v, 'bin', 'python')
    if (existsSync(p)) return p
  }
  return undefined
}

function upwards(start: string): string | undefined {
  let dir = resolve(start)
  for (;;) {
    const found = venvPython(dir)
    if (found !== undefined) return found
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** The interpreter that runs the project's Python steps (see the module comment for the order). */
export function findPython(root: string): string {
  return process.env.MOTIA_PYTHON || upwards(root) || upwards(dirname(fileURLToPath(import.meta.url))) || 'python3'
}

export interface PythonRuntimeOptions {
  root: string
  /** The engine's bridge URL. */
  url: string
  /** `dev` reloads changed Python step files; `run` (for `motia start`) does not. */
  mode: 'dev' | 'run'
  /** The app's name (passed as `--app`, so both halves register as one app). */
  app?: string
  replica?: boolean
  /** Each line the Python runtime prints. */
  onLine?: (line: string) => void
  /** Motia's own messages about the runtime. */
  log?: (line: string) => void
}

/** A running Python runtime; `stop()` ends it (twice is safe). */
export interface PythonRuntime {
  readonly python: string
  stop(): Promise<void>
}

/**
 * Starts Python Motia for the project and resolves once it is ready; rejects when the
 * interpreter cannot import motia or the first start ends before it is ready.
 */
export async function startPython(o: PythonRuntimeOptions): Promise<PythonRuntime> {
  const python = findPython(o.root)
  const log = o.log ?? ((line: string) => process.stdout.write(`[motia] ${line}\n`))
  const onLine = o.onLine ?? ((line: string) => process.stdout.write(`${line}\n`))
  const check = spawnSync(python, ['-c', 'import motia.project'], { encoding: 'utf8' })
  if (check.error !== undefined || check.status !== 0) {
    const why = check.error?.message ?? check.stderr.trim().split('\n').pop()
    throw new Error(
      `the project has Python steps but ${python} cannot import motia (${why}); ` +
        'create .venv in the project and install the iii and motia Python packages there, or set MOTIA_PYTHON',
    )
  }
  // `motia start` is strict: a Python step file that cannot be loaded fails it, as a Node one does
  const args = ['-m', 'motia', o.mode, o.root, '--url', o.url, '--exit-with-stdin']
  if (o.mode === 'run') args.push('--strict')
  if (o.app !== undefined) args.push('--app', o.app)
  if (o.replica) args.push('--replica')
  let child: ChildProcess | undefined
  let stopping = false
  let restarts = 0
  let timer: NodeJS.Timeout | undefined
  let first: { resolve: () => void; reject: (err: Error) => void } | undefined
  const firstReady = new Promise<void>((resolve, reject) => {
    first = { resolve, reject }
  })
  const launch = () => {
    const started = Date.now()
    let ready = false
    const proc = spawn(python, args, {
      cwd: o.root,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    })
    child = proc
    for (const stream of [proc.stdout, proc.stderr]) {
      let pending = ''
      stream?.setEncoding('utf8').on('data', (d: string) => {
        const lines = (pending + d).split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) {
          onLine(line)
          if (!ready && line === 'motia ready') {
            ready = true
            first?.resolve()
            first = undefined
          }
        }
      })
    }
    proc.once('exit', (code, signal) => {
      if (stopping) return
      const how = signal ?? `code ${code}`
      if (first !== undefined) {
        // the first start failed (no engine, a step file that cannot be loaded under start...):
        // starting it again would fail the same way
        first.reject(new Error(`the Python runtime exited before it was ready (${how}); its output is above`))
        first = undefined
        return
      }
      // a run that lasted a while starts the backoff again
      if (Date.now() - started > 10_000) restarts = 0
      const delay = Math.min(250 * 2 ** restarts, 5000)
      restarts++
      log(`the Python runtime exited (${how}): restarting in ${delay} ms`)
      timer = setTimeout(launch, delay)
    })
  }
  launch()
  await firstReady
  return {
    python,
    async stop() {
      if (stopping) return
      stopping = true
      clearTimeout(timer)
      const proc = child
      if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
      const exited = new Promise<void>((done) => proc.once('exit', () => done()))
      proc.kill('SIGTERM')
      const force = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(force)
    },
  }
}
