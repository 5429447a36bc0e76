/** One connected worker: its socket and everything it registered. */
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'

export interface WorkerInfo {
  name?: string
  runtime?: string
  version?: string
  os?: string
}

export class Worker {
  readonly connectedAt = Date.now()
  info: WorkerInfo = {}
  /** Function paths this worker serves. */
  readonly functions = new Set<string>()
  /** Trigger ids this worker registered. */
  readonly triggers = new Set<string>()
  /** Trigger types this worker owns. */
  readonly triggerTypes = new Set<string>()
  /** Engine invocation ids running on this worker. */
  readonly running = new Set<string>()
  readonly services = new Map<string, Record<string, unknown>>()
  badFrames = 0
  alive = true
  closed = false

  constructor(
    readonly id: string,
    private readonly socket: WebSocket,
  ) {}

  send(text: string): void {
    if (this.closed) return
    batchWrites(this.socket)
    this.socket.send(text)
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason)
  }

  ping(): void {
    if (!this.closed) this.socket.ping()
  }

  terminate(): void {
    this.socket.terminate()
  }
}

/**
 * Holds a WebSocket's writes until the end of the current event-loop turn, so every frame sent
 * to it in one turn leaves in one system call (under load that is many frames per write). The
 * release is a `setImmediate`, not a `process.nextTick`: answers produced by promise
 * continuations of this turn (async handlers, the store) come after the tick queue.
 */
export function batchWrites(ws: WebSocket): void {
  const raw = (ws as unknown as { _socket?: Socket })._socket
  if (raw === undefined || raw.writableCorked > 0) return
  raw.cork()
  setImmediate(uncork, raw)
}

function uncork(socket: Socket): void {
  socket.uncork()
}
