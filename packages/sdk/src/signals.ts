/**
 * Graceful shutdown on SIGTERM and SIGINT for the bridges built with `shutdownOnSignal` (the
 * default): one listener per signal for the whole process. On the first signal every watched
 * bridge shuts down ({@link Stoppable.shutdown}: no new calls, running handlers finish, then
 * the socket closes); then, when nothing else listens for that signal, the signal is raised
 * again so it ends the process exactly as it would have without the SDK. A second signal
 * during the shutdown finds no listener and ends the process at once.
 */

/** What a signal shuts down: a bridge. */
export interface Stoppable {
  shutdown(): Promise<void>
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const
const watched = new Set<Stoppable>()
let installed = false

const listener = (signal: NodeJS.Signals) => {
  for (const s of SIGNALS) process.off(s, listener)
  installed = false
  const all = [...watched]
  watched.clear()
  void Promise.allSettled(all.map((b) => b.shutdown())).then(() => {
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
  })
}

/** Shuts `bridge` down on the next SIGTERM/SIGINT. */
export function watchSignals(bridge: Stoppable): void {
  watched.add(bridge)
  if (installed) return
  installed = true
  for (const s of SIGNALS) process.on(s, listener)
}

/** Forgets `bridge` (it was closed); the listeners go with the last one. */
export function unwatchSignals(bridge: Stoppable): void {
  watched.delete(bridge)
  if (watched.size > 0 || !installed) return
  installed = false
  for (const s of SIGNALS) process.off(s, listener)
}
