/**
 * Test helpers: run the `motia` command (from source, through tsx) as its own process, and
 * copy a fixture project to a temporary directory that resolves this repository's packages.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Cleanup, repoRoot } from '@iii-dev/testkit'

export const motiaCli = resolve(dirname(fileURLToPath(import.meta.url)), '../src/cli.ts')
export const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures')

export interface MotiaProcess {
  proc: ChildProcess
  output(): string
  /** Resolves when the output (from `from` on) contains `text` (a string or a pattern). */
  waitFor(text: string | RegExp, timeoutMs?: number, from?: number): Promise<void>
  stop(): Promise<void>
}

/** Runs `motia <args>` with `env` added; stopped (SIGTERM, then SIGKILL) after the test. */
export function startMotia(t: Cleanup, args: string[], env: Record<string, string> = {}): MotiaProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', motiaCli, ...args], {
    cwd: repoRoot,
    env: { ...process.env, III_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const listeners = new Set<() => void>()
  const onData = (d: string) => {
    out += d
    for (const l of [...listeners]) l()
  }
  proc.stdout?.setEncoding('utf8').on('data', onData)
  proc.stderr?.setEncoding('utf8').on('data', onData)
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  const m: MotiaProcess = {
    proc,
    output: () => out,
    waitFor(text, timeoutMs = 15_000, from = 0) {
      const has = () => (typeof text === 'string' ? out.slice(from).includes(text) : text.test(out.slice(from)))
      return new Promise((res, rej) => {
        const check = () => {
          if (!has()) return
          listeners.delete(check)
          clearTimeout(timer)
          res()
        }
        const timer = setTimeout(() => {
          listeners.delete(check)
          rej(new Error(`motia did not print ${text} in ${timeoutMs} ms:\n${out}`))
        }, timeoutMs)
        listeners.add(check)
        check()
      })
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM')
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
    },
  }
  t.after(() => m.stop())
  return m
}

/** A copy of `fixtures/<name>` in a temporary directory, with node_modules linked to the repo's. */
export function copyFixture(t: Cleanup, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `motia-${name}-`))
  cpSync(join(fixtures, name), dir, { recursive: true })
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir')
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => res(port))
    })
  })
}

/** JSON helpers over fetch. */
export async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text ? JSON.parse(text) : null
  } catch {}
  return { status: res.status, body: parsed, headers: res.headers, text }
}
