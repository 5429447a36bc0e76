/** Small helpers shared by the SDK tests. */
import { createServer } from 'node:net'
import { type Cleanup, eventually } from '@iii-dev/testkit'
import { Bridge, type BridgeOptions } from '../src/index.ts'

/** A bridge in the test process, closed when the test ends; not connected yet. Its own warnings (the reconnects tests provoke) are off. */
export function makeBridge(t: Cleanup, url: string, options: BridgeOptions = {}): Bridge {
  const bridge = new Bridge(url, { logLevel: 'error', forwardLogs: false, ...options })
  t.after(() => bridge.close())
  return bridge
}

/** A connected bridge in the test process, closed when the test ends. */
export async function connectBridge(t: Cleanup, url: string, options: BridgeOptions = {}): Promise<Bridge> {
  const bridge = makeBridge(t, url, options)
  await bridge.connect()
  return bridge
}

/** Resolves once the engine lists every one of `paths`. */
export async function waitForFunctions(bridge: Bridge, ...paths: string[]): Promise<void> {
  await eventually(async () => {
    const { functions } = await bridge.invokeFunction<{ functions: Array<{ function_path: string }> }>(
      'engine.functions.list',
      {},
    )
    return paths.every((p) => functions.some((f) => f.function_path === p))
  }, 10_000)
}

/** A TCP port that was free a moment ago (for restart tests that need a fixed address). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** An assert.rejects predicate for an error with this code. */
export const coded = (code: string, message?: RegExp) => (err: unknown) => {
  const e = err as { code?: string; message?: string; name?: string }
  if (e?.code !== code) throw new Error(`expected code ${code}, got ${e?.code}: ${e?.message}`)
  if (message && !message.test(e.message ?? '')) throw new Error(`message ${e.message} does not match ${message}`)
  return e.name === 'IIIError'
}

/**
 * A cleanup list for a whole `describe` block: pass it where a test context is expected in
 * `before`, and call `run` from the suite's `after`. Runs in reverse order of registration.
 */
export function suiteCleanup(): Cleanup & { run(): Promise<void> } {
  const fns: Array<() => unknown> = []
  return {
    after: (fn) => void fns.push(fn),
    async run() {
      for (const fn of fns.reverse()) await fn()
    },
  }
}

/** Fetches `url` until the answer is not 404 (a route appears once its trigger is registered). */
export async function fetchRouted(url: string, init?: RequestInit): Promise<Response> {
  let res: Response | undefined
  await eventually(async () => {
    res = await fetch(url, init)
    return res.status !== 404
  }, 10_000)
  return res as Response
}
