/**
 * A real `redis-server` for tests: started on a free port in its own temporary directory,
 * stopped at the end of the test. With `aof: true` it runs with `--appendonly yes
 * --appendfsync always`, and {@link RedisServer.restart} brings it back on the same port with
 * the same files (for tests that check nothing acknowledged is lost).
 *
 *   const redis = await startRedis(t)                 // redis.url = redis://127.0.0.1:<port>
 *   const redis = await startRedis(t, { aof: true })
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Cleanup } from './index.js'

export interface RedisServer {
  url: string
  port: number
  /** Everything redis-server printed. */
  output(): string
  /** SIGKILL (a crash); resolves when the process is gone. */
  kill(): Promise<void>
  /** Stops (if running) and starts again on the same port and directory. */
  restart(): Promise<void>
  /** SIGTERM; resolves when the process is gone. Safe to call twice. */
  stop(): Promise<void>
}

export interface StartRedisOptions {
  /** Append-only file with an fsync per write (survives kill -9 and restart). */
  aof?: boolean
}

/** Whether `redis-server` is on the PATH (`.ci/run` installs it). */
export function hasRedis(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

const gone = (proc: ChildProcess) =>
  proc.exitCode !== null || proc.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((res) => proc.once('exit', () => res()))

export async function startRedis(t: Cleanup | null, opts: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'iii-redis-'))
  const port = await freePort()
  const argv = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--protected-mode', 'no']
  argv.push(...(opts.aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']))
  let out = ''
  let proc: ChildProcess | null = null

  const launch = async () => {
    const from = out.length
    const p = spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    proc = p
    p.stdout?.setEncoding('utf8')
    p.stderr?.setEncoding('utf8')
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server not ready:\n${out}`)), 10_000)
      const onData = (d: string) => {
        out += d
        if (out.includes('Ready to accept connections', from)) {
          clearTimeout(timer)
          resolve()
        }
      }
      p.stdout?.on('data', onData)
      p.stderr?.on('data', (d: string) => (out += d))
      p.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}:\n${out}`))
      })
    })
  }

  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    output: () => out,
    async kill() {
      if (proc) {
        proc.kill('SIGKILL')
        await gone(proc)
      }
    },
    async restart() {
      await server.stop()
      out += '\n--- restart ---\n'
      await launch()
    },
    async stop() {
      if (proc) {
        proc.kill('SIGTERM')
        await gone(proc)
      }
    },
  }
  t?.after(async () => {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  await launch()
  return server
}
