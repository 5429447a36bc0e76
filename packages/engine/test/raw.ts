/** A bare protocol client for tests: speaks raw JSON frames over a WebSocket, no SDK. */

import type { Cleanup } from '@iii-dev/testkit'
import WebSocket from 'ws'

export type Frame = Record<string, any>

export class RawClient {
  readonly frames: Frame[] = []
  private waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = []
  private handlers = new Map<string, (data: any, frame: Frame) => unknown>()
  closed: Promise<{ code: number; reason: string }>
  workerId = ''
  private nextId = 1

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Frame
      this.frames.push(frame)
      if (frame.type === 'invokefunction' && this.handlers.has(frame.function_path)) this.serve(frame)
      for (const w of [...this.waiters]) {
        if (w.match(frame)) {
          this.waiters.splice(this.waiters.indexOf(w), 1)
          w.resolve(frame)
        }
      }
    })
    this.closed = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })))
  }

  static async connect(t: Cleanup | null, url: string, opts: WebSocket.ClientOptions = {}): Promise<RawClient> {
    const ws = new WebSocket(url, opts)
    const client = new RawClient(ws)
    t?.after(() => ws.terminate())
    const hello = client.next((f) => f.type === 'workerregistered')
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res())
      ws.once('error', rej)
    })
    client.workerId = (await hello).worker_id
    return client
  }

  send(frame: Frame | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** The next frame (already received or still to come) that matches. */
  next(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`)),
        timeoutMs,
      )
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer)
          resolve(f)
        },
      })
    })
  }

  /** Registers a function served by `handler`; a thrown error becomes an error result. */
  register(path: string, handler: (data: any, frame: Frame) => unknown): void {
    this.handlers.set(path, handler)
    this.send({ type: 'registerfunction', function_path: path })
  }

  private async serve(frame: Frame): Promise<void> {
    if (frame.invocation_id === undefined) return void this.handlers.get(frame.function_path)?.(frame.data, frame)
    try {
      const result = await this.handlers.get(frame.function_path)?.(frame.data, frame)
      if (result === NO_ANSWER) return
      this.send({
        type: 'invocationresult',
        invocation_id: frame.invocation_id,
        function_path: frame.function_path,
        result,
      })
    } catch (err) {
      this.send({
        type: 'invocationresult',
        invocation_id: frame.invocation_id,
        function_path: frame.function_path,
        error: { code: 'invocation_failed', message: (err as Error).message },
      })
    }
  }

  /** Calls a function and resolves with the whole `invocationresult` frame. */
  async call(path: string, data: unknown, extra: Frame = {}): Promise<Frame> {
    const id = `c${this.nextId++}`
    const answer = this.next((f) => f.type === 'invocationresult' && f.invocation_id === id, extra.waitMs ?? 10_000)
    this.send({ type: 'invokefunction', invocation_id: id, function_path: path, data, ...extra })
    return answer
  }

  close(): void {
    this.ws.close()
  }
}

/** Return this from a handler to leave the call unanswered. */
export const NO_ANSWER = Symbol('no answer')

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
