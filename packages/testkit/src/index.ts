/**
 * The test harness. Starts the real `iii` engine (the `iii` command, `packages/engine/bin/iii.js`) and worker scripts as
 * separate processes on ephemeral ports, and stops them at the end of the test.
 *
 *   const engine = await startEngine(t)            // t: node:test context, cleanup registered
 *   const worker = await startWorker(t, 'path/to/worker.ts', { III_BRIDGE_URL: engine.bridgeUrl })
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
export const engineCli = join(repoRoot, 'packages/engine/bin/iii.js')

/** Anything with an `after` hook, such as node:test's TestContext or a suite context. */
export interface Cleanup {
  after(fn: () => unknown): void
}

export interface EngineProcess {
  proc: ChildProcess
  bridgeUrl: string
  apiUrl: string
  streamsUrl: string
  /** The ready line as the engine printed it. */
  ready: ReadySignal
  dataDir: string
  /** Everything the engine printed so far (stdout and stderr). */
  output(): string
  /** SIGTERM, then SIGKILL after 3 s; resolves with the exit code. Safe to call twice. */
  stop(): Promise<number | null>
  /** SIGKILL at once (a crash); resolves when the process is gone. */
  kill(): Promise<void>
}

export interface StartEngineOptions {
  /** YAML text written to a temporary config file and passed with --config. */
  config?: string
  /** More command-line flags. */
  args?: string[]
  /** Reuse a data directory (for restart tests); a fresh temporary one otherwise. */
  dataDir?: string
  env?: Record<string, string>
  /** Fixed ports instead of ephemeral ones (for restart tests that need the same address). */
  ports?: { bridge?: number; api?: number; streams?: number }
  timeoutMs?: number
}

function waitForExit(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode)
  return new Promise((res) => proc.once('exit', (code) => res(code)))
}

/**
 * The engine's ready line: `{"iii":"ready","pid":…,"bridge":…,"api":…,"streams":…}`, printed
 * once every listener is up (a module that is off has no key).
 */
export interface ReadySignal {
  iii: 'ready'
  pid: number
  bridge?: string
  api?: string
  streams?: string
  [name: string]: string | number | undefined
}

/** The ready signal on one line of the engine's stdout, or undefined when the line is not it. */
export function parseReadyLine(line: string): ReadySignal | undefined {
  if (!line.startsWith('{"iii":')) return undefined
  try {
    const v = JSON.parse(line)
    return v !== null && typeof v === 'object' && v.iii === 'ready' && typeof v.pid === 'number' ? v : undefined
  } catch {
    return undefined
  }
}

/** Starts the engine and resolves once it printed its ready line ({@link ReadySignal}). */
export async function startEngine(t: Cleanup | null, opts: StartEngineOptions = {}): Promise<EngineProcess> {
  const tmp = mkdtempSync(join(tmpdir(), 'iii-test-'))
  const dataDir = opts.dataDir ?? join(tmp, 'data')
  const args = [
    engineCli,
    '--port',
    String(opts.ports?.bridge ?? 0),
    '--api-port',
    String(opts.ports?.api ?? 0),
    '--streams-port',
    String(opts.ports?.streams ?? 0),
    '--data-dir',
    dataDir,
  ]
  if (opts.config !== undefined) {
    const file = join(tmp, 'config.yaml')
    writeFileSync(file, opts.config)
    args.push('--config', file)
  }
  args.push(...(opts.args ?? []))
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  proc.stdout?.setEncoding('utf8')
  proc.stderr?.setEncoding('utf8')
  proc.stdout?.on('data', (d: string) => (out += d))
  proc.stderr?.on('data', (d: string) => (out += d))

  const engine: EngineProcess = {
    proc,
    bridgeUrl: '',
    apiUrl: '',
    streamsUrl: '',
    ready: { iii: 'ready', pid: 0 },
    dataDir,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM')
        const timer = setTimeout(() => proc.kill('SIGKILL'), 3000)
        const code = await waitForExit(proc)
        clearTimeout(timer)
        return code
      }
      return proc.exitCode
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
      await waitForExit(proc)
    },
  }
  t?.after(async () => {
    await engine.stop()
    if (opts.dataDir === undefined) rmSync(tmp, { recursive: true, force: true })
  })

  const ready = await new Promise<ReadySignal>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`engine did not become ready:\n${out}`)), opts.timeoutMs ?? 15_000)
    let pending = ''
    const check = (d: string) => {
      pending += d
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        const signal = parseReadyLine(line)
        if (signal === undefined) continue
        clearTimeout(timer)
        proc.stdout?.off('data', check)
        proc.off('exit', exited)
        res(signal)
        return
      }
    }
    const exited = (code: number | null) => {
      clearTimeout(timer)
      rej(new Error(`engine exited with ${code} before it was ready:\n${out}`))
    }
    proc.stdout?.on('data', check)
    proc.once('exit', exited)
  })
  engine.bridgeUrl = ready.bridge ?? ''
  engine.apiUrl = ready.api ?? ''
  engine.streamsUrl = ready.streams ?? ''
  engine.ready = ready
  return engine
}

export interface WorkerProcess {
  proc: ChildProcess
  output(): string
  /** Resolves when the worker printed a line containing `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>
  stop(): Promise<void>
  kill(): Promise<void>
}

/**
 * Starts a worker script (TypeScript through tsx, or plain JS / Python by extension) as its
 * own process. Use `waitFor` on something the script prints once it is connected.
 */
export function startWorker(t: Cleanup | null, script: string, env: Record<string, string> = {}): WorkerProcess {
  const isPy = script.endsWith('.py')
  const command = isPy ? join(repoRoot, '.venv/bin/python') : process.execPath
  const args = isPy ? [script] : script.endsWith('.ts') ? ['--import', 'tsx', script] : [script]
  const proc = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: repoRoot,
  })
  let out = ''
  const listeners = new Set<() => void>()
  const onData = (d: string) => {
    out += d
    for (const l of listeners) l()
  }
  proc.stdout?.setEncoding('utf8')
  proc.stderr?.setEncoding('utf8')
  proc.stdout?.on('data', onData)
  proc.stderr?.on('data', onData)
  const worker: WorkerProcess = {
    proc,
    output: () => out,
    waitFor(text, timeoutMs = 10_000) {
      return new Promise((res, rej) => {
        const check = () => {
          if (!out.includes(text)) return
          listeners.delete(check)
          clearTimeout(timer)
          res()
        }
        const timer = setTimeout(() => {
          listeners.delete(check)
          rej(new Error(`worker ${script} did not print "${text}" in ${timeoutMs} ms:\n${out}`))
        }, timeoutMs)
        listeners.add(check)
        check()
      })
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM')
        const timer = setTimeout(() => proc.kill('SIGKILL'), 3000)
        await waitForExit(proc)
        clearTimeout(timer)
      }
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
      await waitForExit(proc)
    },
  }
  t?.after(() => worker.stop())
  return worker
}

/** Polls `fn` until it returns a truthy value or the time is up. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > end) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${last}` : ''}`)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}
export { hasRedis, type RedisServer, type StartRedisOptions, startRedis } from './redis.js'
