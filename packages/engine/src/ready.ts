/**
 * The readiness signal: once every listener is up the `iii` command prints one JSON line to
 * stdout, and with `--ready-file` writes the same JSON to a file, for the programs that start
 * the engine (the testkit, `motia dev`, Python's `iii.testing`):
 *
 *   {"iii":"ready","pid":1234,"bridge":"ws://127.0.0.1:49134","api":"http://127.0.0.1:3111","streams":"ws://127.0.0.1:3112"}
 *
 * The addresses carry the real bound ports (also with `--port 0`); a module that is off has no
 * key; with the console on, `console` is its URL, and with metrics on `metrics` the /metrics URL. The line is the only stdout line that starts
 * with `{"iii":`.
 */
import { renameSync, writeFileSync } from 'node:fs'

/** The order of the address keys; any other module's address follows them. */
const ORDER = ['bridge', 'api', 'streams']

const rank = (name: string) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length)

/** The listeners' names and URLs, bridge, api, streams first. */
export function orderedAddresses(addresses: Record<string, string>): Array<[string, string]> {
  return Object.entries(addresses).sort(([a], [b]) => rank(a) - rank(b))
}

/** The ready line's JSON text (no newline). */
export function readyJson(pid: number, addresses: Record<string, string>): string {
  const signal: Record<string, string | number> = { iii: 'ready', pid }
  for (const [name, url] of orderedAddresses(addresses)) signal[name] = url
  return JSON.stringify(signal)
}

/**
 * Writes `json` to `path` atomically: to a temporary file beside it, then renamed over it, so
 * a reader never sees half a file. Throws an Error naming the path when it cannot.
 */
export function writeReadyFile(path: string, json: string): void {
  const tmp = `${path}.${process.pid}.tmp`
  try {
    writeFileSync(tmp, `${json}\n`)
    renameSync(tmp, path)
  } catch (err) {
    throw new Error(`cannot write the ready file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`)
  }
}
