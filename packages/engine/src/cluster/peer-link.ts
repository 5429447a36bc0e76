/**
 * Calls between engines over a direct WebSocket, one per pair (each engine connects to every
 * other engine's peer socket for its own calls).
 *
 * {@link PeerLink} is the calling side: a {@link WorkerLink} that stands, in this engine's core,
 * for all of the other engine's workers. The core treats it as one more worker of each function
 * that engine serves: same round-robin, same timeouts and pending calls; when the socket
 * closes (the engine was killed or stopped) the core removes the link like a worker that
 * disconnected, so the calls waiting on it fail with `invocation_stopped` at once.
 *
 * {@link servePeerFrame} is the serving side: it runs a relayed call on one of this engine's
 * own workers and sends the answer back.
 *
 * Frames (JSON text): call `{t:"c", i, p, o?, m?, d}` (invocation id, function path, timeout
 * in ms, trigger/trace meta, data); answer `{t:"r", i, r}` or `{t:"r", i, e:{code, message}}`.
 */
import WebSocket from 'ws'
import type { Engine } from '../core/engine.js'
import type { CallMeta, ForwardedTrigger, PeerView, WorkerLink } from '../core/link.js'
import type { WorkerRecord } from '../core/worker.js'
import { toWireError, type WireError } from '../errors.js'
import type { InvokeOptions } from '../modules/module.js'
import { RawJson, type TriggerMeta } from '../protocol.js'

const json = (data: unknown) => (data instanceof RawJson ? data.text : (JSON.stringify(data ?? null) ?? 'null'))

export interface PeerLinkEvents {
  /** The socket is open: the link can be handed to the core. */
  open(link: PeerLink): void
  /** The socket closed or could not open; called once. */
  closed(link: PeerLink): void
}

export class PeerLink implements WorkerLink {
  readonly remote: PeerView
  /** The core's record of this link, set once it is open. */
  record: WorkerRecord | null = null
  private readonly ws: WebSocket
  private done = false

  constructor(
    private readonly engine: Engine,
    /** The other engine's id: mirrored trigger ids start with it. */
    readonly peerId: string,
    url: string,
    counts: PeerView,
    events: PeerLinkEvents,
    /** The cluster's secret, presented at the upgrade. */
    secret: string,
  ) {
    this.remote = counts
    this.ws = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: engine.options.bridge.maxPayload,
      headers: { authorization: `Bearer ${secret}` },
    })
    this.ws.on('open', () => events.open(this))
    this.ws.on('message', (raw) => this.answer(raw.toString()))
    this.ws.on('error', () => {})
    this.ws.on('close', () => {
      if (this.done) return
      this.done = true
      events.closed(this)
    })
  }

  invoke(invocationId: string, functionPath: string, data: unknown, meta: CallMeta): number {
    if (this.ws.readyState !== WebSocket.OPEN) return 0
    const m: { trigger?: TriggerMeta; traceparent?: string; baggage?: string } = {}
    if (meta.trigger !== undefined) m.trigger = { ...meta.trigger, id: this.unmirror(meta.trigger.id) }
    if (meta.traceparent !== undefined) m.traceparent = meta.traceparent
    if (meta.baggage !== undefined) m.baggage = meta.baggage
    const { timeoutMs, deadline } = meta as InvokeOptions
    // A retried call tells the other engine the time it has left, not its whole timeout.
    const timeout = deadline === undefined ? timeoutMs : Math.max(1, Math.ceil(deadline - performance.now()))
    const head = { t: 'c', i: invocationId, p: functionPath, ...(timeout !== undefined && { o: timeout }), m }
    this.ws.send(`${JSON.stringify(head).slice(0, -1)},"d":${json(data)}}`)
    return 0
  }

  /** A mirrored trigger's id on this engine is `<peer id>:<id>`; the other engine knows `<id>`. */
  private unmirror(id: string): string {
    return id.startsWith(`${this.peerId}:`) ? id.slice(this.peerId.length + 1) : id
  }

  // Worker-owned trigger types are not shared between engines, so nothing is forwarded.
  registerTrigger(_trigger: ForwardedTrigger): void {}
  unregisterTrigger(_id: string, _triggerType: string): void {}

  reportError(error: WireError, ref?: string): void {
    this.engine.log.debug(`cluster: engine ${this.peerId}: ${error.code} ${error.message}${ref ? ` (${ref})` : ''}`)
  }

  private answer(text: string): void {
    const record = this.record
    if (record === null) return
    let f: { t?: string; i?: string; r?: unknown; e?: WireError }
    try {
      f = JSON.parse(text)
    } catch {
      return
    }
    if (f.t !== 'r' || typeof f.i !== 'string') return
    this.engine.settle(record, f.i, f.r, f.e)
  }

  /** Closes the socket; `closed` follows. */
  close(): void {
    this.ws.terminate()
  }
}

/** Serves one frame from another engine's {@link PeerLink}; answers through `send`. */
export function servePeerFrame(engine: Engine, text: string, send: (text: string) => void): boolean {
  let f: { t?: string; i?: string; p?: string; o?: number; m?: CallMeta; d?: unknown }
  try {
    f = JSON.parse(text)
  } catch {
    return false
  }
  if (f.t !== 'c' || typeof f.i !== 'string' || typeof f.p !== 'string') return false
  const id = JSON.stringify(f.i)
  const m = f.m ?? {}
  engine
    .invoke(f.p, f.d, {
      relayed: true,
      raw: true,
      trigger: m.trigger,
      traceparent: m.traceparent,
      baggage: m.baggage,
      ...(typeof f.o === 'number' && { timeoutMs: f.o }),
    })
    .then(
      (result) => send(`{"t":"r","i":${id},"r":${json(result)}}`),
      (err) => send(`{"t":"r","i":${id},"e":${JSON.stringify(toWireError(err))}}`),
    )
  return true
}
