/**
 * A bare WebSocket server standing in for the engine, for the tests that must see the exact
 * frames the SDK writes (replay order, error shapes, log records) or control the socket (drop
 * it mid-call). It answers nothing by itself except the `workerregistered` greeting.
 */
import { eventually } from '@iii-dev/testkit'
import { type WebSocket, WebSocketServer } from 'ws'

export interface Peer {
  url: string
  port: number
  /** Every frame received, parsed, in arrival order, across connections. */
  frames: any[]
  /** Every accepted socket, in order; the last is the current one. */
  sockets: WebSocket[]
  /** The time (Date.now()) each socket was accepted. */
  acceptedAt: number[]
  /** Sends a frame (an object is JSON-encoded) on the current socket. */
  send(frame: object | string): void
  /** Terminates every socket (the SDK sees its connection drop). */
  dropAll(): void
  /** Resolves with the first received frame matching `match` (waiting up to `timeoutMs`). */
  next(match: (frame: any) => boolean, timeoutMs?: number): Promise<any>
  close(): Promise<void>
}

/** Starts a peer on `port` (0: any free port); it is closed when the test ends. */
export async function startPeer(t: { after(fn: () => unknown): void }, port = 0): Promise<Peer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port })
  await new Promise((r) => wss.once('listening', r))
  const actual = (wss.address() as { port: number }).port
  let closed = false
  const p: Peer = {
    url: `ws://127.0.0.1:${actual}`,
    port: actual,
    frames: [],
    sockets: [],
    acceptedAt: [],
    send(frame) {
      p.sockets.at(-1)?.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
    },
    dropAll() {
      for (const s of p.sockets) s.terminate()
    },
    next: (match, timeoutMs = 5000) => eventually(() => p.frames.find(match), timeoutMs),
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve()
        closed = true
        for (const s of wss.clients) s.terminate()
        wss.close(() => resolve())
      }),
  }
  wss.on('connection', (ws) => {
    p.sockets.push(ws)
    p.acceptedAt.push(Date.now())
    ws.on('message', (d) => p.frames.push(JSON.parse(String(d))))
    ws.send(JSON.stringify({ type: 'workerregistered', worker_id: `w-${p.sockets.length}` }))
  })
  t.after(() => p.close())
  return p
}
