/**
 * One worker's WebSocket connection: the {@link WorkerLink} the core talks to, and the place
 * the worker's frames are decoded and handed to the core. This is the only engine file that
 * turns values into engine -> worker frames (with the encoders of `frames.ts`).
 */
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import type { Engine } from '../core/engine.js'
import type { CallMeta, ForwardedTrigger, WorkerLink } from '../core/link.js'
import type { WorkerRecord } from '../core/worker.js'
import { ErrorCode, IIIError, toWireError, type WireError } from '../errors.js'
import type { WsPeer } from '../net/ws-endpoint.js'
import type { Frame, InvokeFunctionFrame } from '../protocol.js'
import {
  decodeFrame,
  encodeError,
  encodeInvoke,
  encodeRegisterTrigger,
  encodeResult,
  encodeResultError,
  encodeUnregisterTrigger,
  encodeWorkerRegistered,
  frameRef,
  PONG,
} from './frames.js'

export class WorkerConnection implements WorkerLink {
  /** The core's record of this worker, set by {@link attach}. */
  worker!: WorkerRecord
  /** Set once the socket closed: nothing more is written. */
  closed = false
  private readonly socket: WebSocket

  constructor(
    private readonly engine: Engine,
    private readonly peer: WsPeer,
  ) {
    this.socket = peer.ws
  }

  /** Registers the worker with the core and tells it its id. */
  attach(): WorkerRecord {
    this.worker = this.engine.addWorker(this)
    this.send(encodeWorkerRegistered(this.worker.id))
    return this.worker
  }

  /** The socket closed (or was terminated): the core drops everything the worker registered. */
  detach(): void {
    this.closed = true
    this.engine.removeWorker(this.worker)
  }

  // ---- WorkerLink -------------------------------------------------------------------------

  invoke(invocationId: string, functionPath: string, data: unknown, meta: CallMeta): void {
    this.send(encodeInvoke(invocationId, functionPath, data, meta.trigger, meta.traceparent, meta.baggage))
  }

  registerTrigger(trigger: ForwardedTrigger): void {
    this.send(encodeRegisterTrigger(trigger))
  }

  unregisterTrigger(id: string, triggerType: string): void {
    this.send(encodeUnregisterTrigger(id, triggerType))
  }

  reportError(error: WireError, ref?: string): void {
    this.send(encodeError(error, ref))
  }

  private send(text: string): void {
    if (this.closed) return
    batchWrites(this.socket)
    this.socket.send(text)
  }

  // ---- frames from the worker -------------------------------------------------------------

  /** Decodes one text frame and hands it to the core; a bad one gets an `error` frame. */
  receive(text: string): void {
    let frame: Frame
    try {
      frame = decodeFrame(text)
    } catch (err) {
      this.refuse(err, frameRefOf(text))
      return
    }
    this.peer.goodFrame()
    try {
      this.dispatch(frame)
    } catch (err) {
      this.refuse(err, frameRef(frame))
    }
  }

  private refuse(err: unknown, ref: string | undefined): void {
    this.reportError(toWireError(err), ref)
    this.peer.badFrame()
  }

  private dispatch(frame: Frame): void {
    const engine = this.engine
    const worker = this.worker
    switch (frame.type) {
      case 'invokefunction':
        return this.call(frame)
      case 'invocationresult':
        return engine.settle(worker, frame.invocation_id, frame.result, frame.error)
      case 'registerfunction':
        return engine.addWorkerFunction(worker, frame.function_path, {
          description: frame.description,
          metadata: frame.metadata,
          request_format: frame.request_format,
          response_format: frame.response_format,
        })
      case 'unregisterfunction':
        return engine.removeWorkerFunction(worker, frame.function_path)
      case 'registertrigger': {
        const { id, trigger_type, function_path, config } = frame
        engine.triggers
          .register({ id, trigger_type, function_path, config, owner: worker.id })
          .catch((err) => this.reportError(toWireError(err), id))
        return
      }
      case 'unregistertrigger': {
        const owner = engine.triggers.owner(frame.id)
        if (owner !== undefined && owner !== worker.id) {
          throw new IIIError(ErrorCode.TriggerConflict, `trigger ${frame.id} belongs to another worker`)
        }
        void engine.triggers.unregister(frame.id)
        return
      }
      case 'registercondition':
        return engine.addCondition(frame.function_path, frame.condition_function_path, worker.id)
      case 'unregistercondition':
        return engine.removeCondition(frame.function_path, frame.condition_function_path, worker.id)
      case 'registertriggertype':
        return engine.triggers.addWorkerType(worker, frame.id, frame.description)
      case 'unregistertriggertype':
        return engine.triggers.removeWorkerType(worker, frame.id)
      case 'triggerregistrationresult':
        return engine.triggers.registrationResult(worker, frame.id, frame.error)
      case 'registerservice': {
        const { type: _type, ...service } = frame
        return engine.addService(worker, frame.id, service)
      }
      case 'ping':
        return this.send(PONG)
      case 'pong':
        return
      case 'workerregistered':
      case 'error':
        throw new IIIError(ErrorCode.InvalidMessage, `${frame.type} frames are sent by the engine, not to it`)
    }
  }

  /** A call the worker makes: run it wherever the function lives and write the answer back. */
  private call(frame: InvokeFunctionFrame): void {
    const { invocation_id: id, function_path: path } = frame
    const call = this.engine.invoke(path, frame.data ?? null, {
      trigger: frame.trigger,
      traceparent: frame.traceparent,
      baggage: frame.baggage,
      timeoutMs: frame.timeout_ms,
      workerId: this.worker.id,
      raw: true,
    })
    if (id === undefined) {
      call.catch((err) => this.engine.log.debug(`fire-and-forget call to ${path} failed: ${toWireError(err).message}`))
      return
    }
    call.then(
      (result) => this.send(encodeResult(id, path, result)),
      (err) => this.send(encodeResultError(id, path, toWireError(err))),
    )
  }
}

/** Best-effort `ref` for a frame that failed to decode: its type or id, if the JSON parsed. */
function frameRefOf(text: string): string | undefined {
  if (text.length > 65_536) return undefined
  try {
    return frameRef(JSON.parse(text))
  } catch {
    return undefined
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
