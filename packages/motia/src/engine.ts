/**
 * Finding the engine for `motia dev` / `motia start`: use the one at the bridge URL when it
 * answers, otherwise start `@iii-dev/engine` as a child process listening on that URL's port.
 * The child watches an inherited pipe (bin/engine-watchdog.mjs), so it stops when motia dies,
 * even by `kill -9`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { connect } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** True when something accepts TCP connections at the URL's host and port within `timeoutMs`. */
export function reachable(url: string, timeoutMs = 500): Promise<boolean> {
  const u = new URL(url)
  const port = Number(u.port || (u.protocol === 'wss:' ? 443 : 80))
  const host = u.hostname.replace(/^\[|\]$/g, '')
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** The `iii` command (`bin/iii.js` of @iii-dev/engine), resolved from where motia is installed. */
export function engineCliPath(): string {
  const main = fileURLToPath(import.meta.resolve('@iii-dev/engine'))
  return join(dirname(main), '..', 'bin', 'iii.js')
}

export interface SpawnedEngine {
  proc: ChildProcess
  /** `{bridge, api, streams}` from the engine's ready line (a module that is off has no key). */
  addresses: Record<string, string>
  stop(): Promise<void>
}

export interface SpawnEngineOptions {
  /** The bridge URL the engine must listen on (its port is used). */
  url: string
  dataDir: string
  /** HTTP and stream socket ports (the engine's defaults, 3111 and 3112, when left out). */
  apiPort?: string
  streamsPort?: string
  /** Serve the engine's web console (`--console`), on this port when given (`--console-port`). */
  console?: boolean
  consolePort?: string
  /** Serve Prometheus `/metrics` on this port (`--metrics-port`). */
  metricsPort?: string
  /** Receives each line the engine prints. */
  onLine?: (line: string) => void
  /** An engine config file (`--config`), e.g. for `modules.streams.auth_function`. */
  configFile?: string
  timeoutMs?: number
}

/**
 * The engine's ready line (`{"iii":"ready","pid":…,"bridge":…,"api":…,"streams":…}`, printed
 * once every listener is up), or undefined when `line` is not it.
 */
export function parseReadyLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{"iii":')) return undefined
  try {
    const v = JSON.parse(line)
    return v !== null && typeof v === 'object' && v.iii === 'ready' ? v : undefined
  } catch {
    return undefined
  }
}

/** Starts the engine and resolves once it printed its ready line ({@link parseReadyLine}). */
export async function spawnEngine(o: SpawnEngineOptions): Promise<SpawnedEngine> {
  mkdirSync(o.dataDir, { recursive: true })
  const u = new URL(o.url)
  const watchdog = new URL('../bin/engine-watchdog.mjs', import.meta.url).href
  const args = ['--import', watchdog, engineCliPath(), '--port', u.port || '49134', '--data-dir', o.dataDir]
  if (o.configFile !== undefined) args.push('--config', o.configFile)
  if (o.apiPort !== undefined) args.push('--api-port', o.apiPort)
  if (o.streamsPort !== undefined) args.push('--streams-port', o.streamsPort)
  if (o.consolePort !== undefined) args.push('--console-port', o.consolePort)
  else if (o.console) args.push('--console')
  if (o.metricsPort !== undefined) args.push('--metrics-port', o.metricsPort)
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') args.push('--host', u.hostname)
  // fd 3: a pipe motia never writes to; the engine stops when it reads its end (motia is gone)
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, MOTIA_ENGINE_WATCHDOG: '3' },
  })
  ;(proc.stdio[3] as { unref?: () => void } | null)?.unref?.()
  let out = ''
  let signal: Record<string, unknown> | undefined
  let readied: (() => void) | undefined
  // One line splitter per stream, so that stdout and stderr chunks never mix within a line.
  const lines = (isStdout: boolean) => {
    let pending = ''
    return (d: string) => {
      out += d
      pending += d
      const complete = pending.split('\n')
      pending = complete.pop() ?? ''
      for (const line of complete) {
        const ready = isStdout && signal === undefined ? parseReadyLine(line) : undefined
        if (ready === undefined) o.onLine?.(line)
        else {
          signal = ready
          readied?.()
        }
      }
    }
  }
  proc.stdout?.setEncoding('utf8').on('data', lines(true))
  proc.stderr?.setEncoding('utf8').on('data', lines(false))
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM')
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(t)
    }
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`the engine did not start within ${o.timeoutMs ?? 15000} ms:\n${out}`))
    }, o.timeoutMs ?? 15_000)
    readied = () => {
      clearTimeout(timer)
      proc.off('exit', onExit)
      resolve()
    }
    const onExit = (code: number | null) => {
      clearTimeout(timer)
      reject(new Error(`the engine exited with code ${code}:\n${out}`))
    }
    proc.once('exit', onExit)
  })
  const addresses: Record<string, string> = {}
  for (const [name, value] of Object.entries(signal ?? {})) {
    if (name !== 'iii' && name !== 'pid' && typeof value === 'string') addresses[name] = value
  }
  return { proc, addresses, stop }
}
