/**
 * One worker's WebSocket connection: the {@link WorkerLink} the core talks to, and (as the
 * endpoint's {@link PeerHandler}) the place the worker's frames are decoded and handed to the
 * core. This is the only engine file that turns values into engine -> worker frames (with the
 * encoders of `frames.ts`).
 */
import type { Socket } from 'node:net'
import type { RawData, WebSocket } from 'ws'
import type { Engine } from '../core/engine.js'
import type { CallMeta, ForwardedTrigger, WorkerLink } from '../core/link.js'
import { deny, type Policy } from '../core/policy.js'
import type { WorkerRecord } from '../core/worker.js'
import { ErrorCode, IIIError, toWireError, type WireError } from '../errors.js'
import type { PeerHandler, WsPeer } from '../net/ws-endpoint.js'
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
  isTelemetryFrame,
  PONG,
} from './frames.js'

/** Per-connection limits (`bridge.limits`). */
export interface ConnectionLimits {
  maxInFlight: number
  maxRegistrations: number
}

export class WorkerConnection implements WorkerLink, PeerHandler {
  /** The core's record of this worker, set by {@link attach}. */
  worker!: WorkerRecord
  /** Set once the socket closed: nothing more is written. */
  closed = false
  private readonly socket: WebSocket
  readonly address?: string
  /** Calls this worker made that have not been answered yet. */
  private inFlight = 0
  /** Calls handed to the socket, and how many of them the socket wrote out whole (in order). */
  private sentCalls = 0
  private written = 0
  private readonly onWritten = (err?: Error | null) => {
    if (err == null) this.written++
  }
  /** The conditions it registered (`path\0condition`), for the registration limit. */
  private readonly conditions = new Set<string>()

  constructor(
    private readonly engine: Engine,
    private readonly peer: WsPeer,
    private readonly limits: ConnectionLimits,
    /** The identity's policy; undefined when worker authentication is off. */
    private readonly policy?: Policy,
    /** The auth function's path and the only identity that may serve it. */
    private readonly authFunction?: { path: string; identity: string },
    address?: string,
  ) {
    this.socket = peer.ws
    this.address = address
  }

  /** Registers the worker with the core and tells it its id. */
  attach(): WorkerRecord {
    this.worker = this.engine.addWorker(this, this.policy)
    this.engine.log.debug(
      `worker ${this.worker.id} connected${this.policy ? ` as identity ${JSON.stringify(this.policy.identity)}` : ''}`,
    )
    this.send(encodeWorkerRegistered(this.worker.id))
    return this.worker
  }

  /** The socket is gone: the core drops everything the worker registered. Safe to call twice. */
  private detach(): void {
    this.closed = true
    this.engine.removeWorker(this.worker)
  }

  // ---- PeerHandler (the endpoint's events) ------------------------------------------------

  message(data: RawData, isBinary: boolean): void {
    if (!isBinary) return this.receive(data.toString())
    const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)])
    if (isTelemetryFrame(bytes)) return // the original SDK's OTLP/MTRC/LOGS frames: dropped quietly
    this.receive(bytes.toString('utf8'))
  }

  close(): void {
    this.engine.log.debug(`worker ${this.worker.id} disconnected`)
    this.detach()
  }

  error(err: Error): void {
    this.engine.log.debug(`worker ${this.worker.id} socket error: ${err.message}`)
  }

  missed(): void {
    this.engine.log.warn(`worker ${this.worker.id} missed a heartbeat; closing it`)
    this.detach()
  }

  late(): void {
    this.worker.late = true
    this.engine.log.warn(`worker ${this.worker.id} did not answer a heartbeat ping in time; routing around it`)
  }

  answered(): void {
    this.worker.late = false
    this.engine.log.info(`worker ${this.worker.id} answers again; routing to it`)
  }

  // ---- WorkerLink -------------------------------------------------------------------------

  invoke(invocationId: string, functionPath: string, data: unknown, meta: CallMeta): number {
    if (this.closed) return 0
    batchWrites(this.socket)
    this.socket.send(
      encodeInvoke(invocationId, functionPath, data, meta.trigger, meta.traceparent, meta.baggage),
      this.onWritten,
    )
    return ++this.sentCalls
  }

  writtenCalls(): number {
    return this.written
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
      this.refuse(err, frameRefOf(text), text)
      return
    }
    try {
      this.dispatch(frame)
    } catch (err) {
      this.refuse(err, frameRef(frame))
    }
  }

  /**
   * Answers a frame that could not be taken with an `error` frame; an `invokefunction` that
   * carries an `invocation_id` also gets an `invocationresult` with the error, so that the
   * caller fails at once instead of waiting for its timeout.
   */
  private refuse(err: unknown, ref: string | undefined, text?: string): void {
    const error = toWireError(err)
    this.reportError(error, ref)
    const call = text === undefined ? undefined : refusedCall(text)
    if (call !== undefined) this.send(encodeResultError(call.id, call.path, error))
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
        this.check(frame)
        return engine.addWorkerFunction(worker, frame.function_path, {
          description: frame.description,
          metadata: frame.metadata,
          request_format: frame.request_format,
          response_format: frame.response_format,
        })
      case 'unregisterfunction':
        return engine.removeWorkerFunction(worker, frame.function_path)
      case 'registertrigger': {
        this.check(frame)
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
      case 'registercondition': {
        this.check(frame)
        engine.addCondition(frame.function_path, frame.condition_function_path, worker.id)
        this.conditions.add(`${frame.function_path}\0${frame.condition_function_path}`)
        return
      }
      case 'unregistercondition':
        this.conditions.delete(`${frame.function_path}\0${frame.condition_function_path}`)
        return engine.removeCondition(frame.function_path, frame.condition_function_path, worker.id)
      case 'registertriggertype':
        this.check(frame)
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

  /**
   * What the worker's policy forbids (a `forbidden` error and an audit line), and the
   * registration limit. Calls are checked in {@link call}, where the answer is a result.
   */
  private check(frame: Frame): void {
    const policy = this.policy
    const w = this.worker
    switch (frame.type) {
      case 'registerfunction': {
        if (!w.functions.has(frame.function_path)) this.countRegistration()
        if (policy === undefined) return
        const path = frame.function_path
        const fn = this.authFunction
        if (fn !== undefined && path === fn.path && policy.identity !== fn.identity) {
          throw this.deny(
            'register',
            path,
            `${path} is the bridge's auth function; only identity ${fn.identity} may serve it`,
          )
        }
        const refusal = policy.registerRefusal(path)
        if (refusal !== undefined) throw this.deny('register', path, refusal)
        return
      }
      case 'registertrigger':
        if (!w.triggers.has(frame.id)) this.countRegistration()
        if (policy === undefined) return
        if (!policy.mayUseTriggerType(frame.trigger_type)) {
          throw this.deny(
            'registertrigger',
            frame.trigger_type,
            `identity ${policy.identity} may not use trigger type ${frame.trigger_type}`,
          )
        }
        // A trigger calls its function later: the same right as calling it now.
        if (!policy.mayInvoke(frame.function_path)) {
          throw this.deny(
            'registertrigger',
            frame.function_path,
            `identity ${policy.identity} may not invoke ${frame.function_path}`,
          )
        }
        return
      case 'registertriggertype':
        if (!w.triggerTypes.has(frame.id)) this.countRegistration()
        if (policy !== undefined && !policy.mayOwnTriggerType(frame.id)) {
          throw this.deny(
            'registertriggertype',
            frame.id,
            `identity ${policy.identity} may not own trigger type ${frame.id}`,
          )
        }
        return
      case 'registercondition':
        if (!this.conditions.has(`${frame.function_path}\0${frame.condition_function_path}`)) this.countRegistration()
        if (policy !== undefined && !policy.mayInvoke(frame.condition_function_path)) {
          throw this.deny(
            'registercondition',
            frame.condition_function_path,
            `identity ${policy.identity} may not invoke ${frame.condition_function_path}`,
          )
        }
        return
    }
  }

  private countRegistration(): void {
    const w = this.worker
    const held = w.functions.size + w.triggers.size + w.triggerTypes.size + this.conditions.size
    if (held >= this.limits.maxRegistrations) {
      throw new IIIError(
        ErrorCode.TooManyRequests,
        `a worker may hold at most ${this.limits.maxRegistrations} registrations (bridge.limits.max_registrations)`,
      )
    }
  }

  private deny(action: string, target: string, message: string): IIIError {
    return deny(this.engine.log, this.policy as Policy, this.worker.id, action, target, message)
  }

  /** A call the worker makes: run it wherever the function lives and write the answer back. */
  private call(frame: InvokeFunctionFrame): void {
    const { invocation_id: id, function_path: path } = frame
    const refusal = this.refuseCall(path)
    if (refusal !== undefined) {
      if (id !== undefined) this.send(encodeResultError(id, path, refusal.toWire()))
      return
    }
    this.inFlight++
    const call = this.engine.invoke(path, frame.data ?? null, {
      trigger: frame.trigger,
      traceparent: frame.traceparent,
      baggage: frame.baggage,
      timeoutMs: frame.timeout_ms,
      workerId: this.worker.id,
      raw: true,
    })
    if (id === undefined) {
      call.then(
        () => this.inFlight--,
        (err) => {
          this.inFlight--
          this.engine.log.debug(`fire-and-forget call to ${path} failed: ${toWireError(err).message}`)
        },
      )
      return
    }
    call.then(
      (result) => {
        this.inFlight--
        this.send(encodeResult(id, path, result))
      },
      (err) => {
        this.inFlight--
        this.send(encodeResultError(id, path, toWireError(err)))
      },
    )
  }

  /** The in-flight limit, then (auth on) the policy: the error to answer a call with, if any. */
  private refuseCall(path: string): IIIError | undefined {
    if (this.inFlight >= this.limits.maxInFlight) {
      return new IIIError(
        ErrorCode.TooManyRequests,
        `a worker may have at most ${this.limits.maxInFlight} calls in flight (bridge.limits.max_in_flight)`,
      )
    }
    const policy = this.policy
    if (policy !== undefined && !policy.mayInvoke(path)) {
      return this.deny('invoke', path, `identity ${policy.identity} may not invoke ${path}`)
    }
    return undefined
  }
}

/** The `invocation_id` and `function_path` of a refused `invokefunction` frame, if it has an id. */
function refusedCall(text: string): { id: string; path: string } | undefined {
  if (text.length > 65_536 || !text.includes('"invokefunction"')) return undefined
  try {
    const f = JSON.parse(text)
    if (f?.type !== 'invokefunction' || typeof f.invocation_id !== 'string' || f.invocation_id === '') return undefined
    return { id: f.invocation_id, path: typeof f.function_path === 'string' ? f.function_path : '' }
  } catch {
    return undefined
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
