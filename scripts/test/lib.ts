/**
 * Helpers of the tests under scripts/test: run commands, start long-running ones and wait for
 * their output, pick free ports, find processes by their command line, and make
 * better-sqlite3 installable offline in a fresh project.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { repoRoot } from '@iii-dev/testkit'

export { repoRoot }

/** Anything with an `after` hook, such as node:test's TestContext. */
export interface Cleanup {
  after(fn: () => unknown): void
}

export interface RunOptions {
  cwd: string
  env?: Record<string, string | undefined>
  timeoutMs?: number
}

/**
 * The environment of a child: this process's, without the `npm_*` variables an outer
 * `npm test` sets (an npm run inside a test must not see the repository as its project).
 */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('npm_')) env[k] = v
  return { ...env, ...extra }
}

/** Runs a command to its end; rejects with its output when it fails or takes too long (then its whole process group is killed). */
export function run(cmd: string, args: string[], opts: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    // In its own process group, so a timeout also ends what the command started.
    const proc = spawn(cmd, args, {
      cwd: opts.cwd,
      env: childEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let out = ''
    proc.stdout.setEncoding('utf8').on('data', (d) => (out += d))
    proc.stderr.setEncoding('utf8').on('data', (d) => (out += d))
    const timer = setTimeout(() => {
      try {
        process.kill(-(proc.pid as number), 'SIGKILL')
      } catch {
        proc.kill('SIGKILL')
      }
    }, opts.timeoutMs ?? 120_000)
    proc.once('error', reject)
    proc.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(out)
      else reject(new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) ended with ${code ?? signal}:\n${out}`))
    })
  })
}

export interface Started {
  proc: ChildProcess
  output(): string
  /** Resolves when the output contains `text`; rejects after `timeoutMs` or when the process ends. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<string>
  /** SIGTERM to the process group, SIGKILL after 3 s. */
  stop(): Promise<void>
}

/** Starts a long-running command in its own process group, stopped after the test. */
export function start(t: Cleanup, cmd: string, args: string[], opts: RunOptions): Started {
  const proc = spawn(cmd, args, {
    cwd: opts.cwd,
    env: childEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let out = ''
  const waiters = new Set<() => void>()
  const onData = (d: string) => {
    out += d
    for (const w of [...waiters]) w()
  }
  proc.stdout?.setEncoding('utf8').on('data', onData)
  proc.stderr?.setEncoding('utf8').on('data', onData)
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  proc.once('exit', () => {
    for (const w of [...waiters]) w()
  })
  const s: Started = {
    proc,
    output: () => out,
    waitFor(text, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = typeof text === 'string' ? (out.includes(text) ? text : null) : (text.exec(out)?.[0] ?? null)
          if (m !== null) {
            done()
            resolve(m)
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            done()
            reject(new Error(`${cmd} ${args.join(' ')} ended before printing ${text}:\n${out}`))
          }
        }
        const done = () => {
          waiters.delete(check)
          clearTimeout(timer)
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`${cmd} ${args.join(' ')} did not print ${text} in ${timeoutMs} ms:\n${out}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      const group = -(proc.pid as number)
      try {
        process.kill(group, 'SIGTERM')
      } catch {
        return
      }
      const timer = setTimeout(() => {
        try {
          process.kill(group, 'SIGKILL')
        } catch {}
      }, 3000)
      await exited
      clearTimeout(timer)
    },
  }
  t.after(() => s.stop())
  return s
}

const handedOut = new Set<number>()

/** A TCP port that was free a moment ago, and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer()
      srv.once('error', reject)
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port
        srv.close(() => resolve(p))
      })
    })
    if (!handedOut.has(port)) {
      handedOut.add(port)
      return port
    }
  }
}

/** True while something accepts TCP connections on the port. */
export async function listening(port: number): Promise<boolean> {
  const { connect } = await import('node:net')
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1')
    sock.once('connect', () => {
      sock.destroy()
      resolve(true)
    })
    sock.once('error', () => resolve(false))
  })
}

/** The pids of running processes whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const pids: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ')
      if (cmdline.includes(marker)) pids.push(Number(name))
    } catch {}
  }
  return pids
}

/** An HTTP request with a JSON body; the status and the parsed JSON answer (or text). */
export async function http(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let json: unknown = text
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: res.status, body: json as any }
}

/**
 * Environment for `npm install` in a fresh project that makes better-sqlite3 (the engine's
 * SQLite driver) install without a network download. Its install script fetches a prebuilt
 * addon from GitHub, which this machine cannot reach, and then compiles SQLite from source
 * (about 90 s here). prebuild-install's documented `local-prebuilds` option points it at a
 * folder of prebuilt archives instead: this one holds the addon this repository's own install
 * built, for the same better-sqlite3 version and Node ABI. The install script still runs.
 */
export function prebuiltSqliteEnv(dir: string): Record<string, string> {
  const pkgDir = join(repoRoot, 'node_modules', 'better-sqlite3')
  const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version
  const archive = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`
  mkdirSync(dir, { recursive: true })
  execFileSync('tar', ['czf', join(dir, archive), '-C', pkgDir, 'build/Release/better_sqlite3.node'])
  return { npm_config_better_sqlite3_local_prebuilds: dir }
}

/** The fenced blocks of a markdown text whose info string is one of `langs`, in order. */
export function fencedBlocks(markdown: string, langs: string[]): string[] {
  const blocks: string[] = []
  for (const m of markdown.matchAll(/^```(\w*)[^\n]*\n([\s\S]*?)^```$/gm)) if (langs.includes(m[1])) blocks.push(m[2])
  return blocks
}

/** The command lines of shell blocks: one per line, trailing `# comments` dropped. */
export function commandLines(markdown: string): string[] {
  return fencedBlocks(markdown, ['sh', 'bash', 'shell'])
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
}
