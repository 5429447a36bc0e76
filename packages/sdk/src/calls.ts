/**
 * This worker's outgoing calls: builds `invokefunction` frames (carrying the current trace on),
 * keeps the calls that wait for an answer until their `invocationresult`, their timeout, or
 * the end of the socket they were sent on, and sends fire-and-forget calls and log records.
 */
import { randomBytes } from 'node:crypto'
import { arch, platform, release } from 'node:os'
import type { Connection, Queued } from './connection.js'
import { getContext } from './context.js'
import { ErrorCode, IIIError } from './errors.js'
import type { LogRecord } from './logger.js'
import type { ResolvedOptions } from './options.js'
import type { ErrorFrame, InvocationResultFrame, InvokeFunctionFrame, TriggerMeta } from './protocol.js'
import type { InvokeOptions } from './types.js'

/** The longest delay a Node timer takes (a longer one fires at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1

interface PendingCall {
  resolve(value: unknown): void
  reject(err: IIIError): void
  timer: NodeJS.Timeout
  functionPath: string
  /** Set once the frame left for the socket; until then it may wait in the queue. */
  sent: boolean
  queued: Queued | undefined
}

export class Calls {
  private readonly pending = new Map<string, PendingCall>()
  private readonly idPrefix = randomBytes(4).toString('hex')
  private nextId = 0

  /**
   * @param connection where frames go
   * @param options `invocationTimeoutMs` for calls that give no timeout; `maxQueuedMessages`
   * @param start starts connecting if nothing has (a call on a never-connected bridge connects it)
   */
  constructor(
    private readonly connection: Connection,
    private readonly options: Pick<ResolvedOptions, 'invocationTimeoutMs' | 'maxQueuedMessages'>,
    private readonly start: () => void,
  ) {}

  /** Calls a function and resolves with its result (see `Bridge.invokeFunction`). Never throws. */
  invoke<T>(function_path: string, data: unknown, options: InvokeOptions = {}): Promise<T> {
    if (this.connection.isClosed) return Promise.reject(closed())
    if (typeof options !== 'object' || options === null) {
      return Promise.reject(new IIIError(ErrorCode.InvalidArgument, 'the invoke options must be an object'))
    }
    const timeoutMs = options.timeoutMs ?? this.options.invocationTimeoutMs
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > MAX_TIMER_MS) {
      return Promise.reject(
        new IIIError(ErrorCode.InvalidArgument, `timeoutMs must be a positive number up to ${MAX_TIMER_MS}`),
      )
    }
    const id = `${this.idPrefix}-${++this.nextId}`
    let frame: InvokeFunctionFrame
    try {
      frame = invokeFrame(function_path, data, options.trigger, id)
    } catch (err) {
      return Promise.reject(err)
    }
    frame.timeout_ms = Math.ceil(timeoutMs)
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const call = this.pending.get(id)
        if (call === undefined) return
        this.pending.delete(id)
        this.connection.unqueue(call.queued)
        reject(new IIIError(ErrorCode.InvocationTimeout, `${function_path} did not answer within ${timeoutMs} ms`))
      }, timeoutMs)
      const call: PendingCall = {
        resolve: resolve as (v: unknown) => void,
        reject,
        timer,
        functionPath: function_path,
        sent: false,
        queued: undefined,
      }
      // record first, then send: a fast answer always finds its call
      this.pending.set(id, call)
      try {
        call.queued = this.connection.post(frame, () => {
          call.sent = true
          call.queued = undefined
        })
      } catch (err) {
        this.pending.delete(id)
        clearTimeout(timer)
        reject(err as IIIError)
        return
      }
      if (!call.sent) this.start()
    })
  }

  /** Calls a function without waiting for any answer (see `Bridge.invokeFunctionAsync`). */
  invokeAsync(function_path: string, data: unknown, trigger?: TriggerMeta): void {
    if (this.connection.isClosed) throw closed()
    this.connection.post(invokeFrame(function_path, data, trigger))
    if (!this.connection.isOpen) this.start()
  }

  /**
   * Sends a log record to the engine's `logger.log`, best effort: while the socket is closed it
   * is queued only if the queue is less than half full, so logs never crowd out calls.
   */
  forwardLog(record: LogRecord): void {
    if (this.connection.isClosed || !this.connection.isStarted) return
    try {
      this.connection.post(
        { type: 'invokefunction', function_path: 'logger.log', data: record },
        undefined,
        Math.floor(this.options.maxQueuedMessages / 2),
      )
    } catch {
      // dropped: logs are best effort
    }
  }

  /** Describes this worker to the engine (`engine.workers.register`), as it asks on every connect. */
  describeWorker(name: string | undefined): void {
    const info: Record<string, string> = {
      runtime: 'node',
      version: process.version,
      os: `${platform()} ${release()} (${arch()})`,
    }
    if (name !== undefined) info.name = name
    this.connection.send({ type: 'invokefunction', function_path: 'engine.workers.register', data: info })
  }

  /** Settles the call an `invocationresult` answers; a late answer (after the timeout) is dropped. */
  settle(frame: InvocationResultFrame): void {
    const call = this.take(frame.invocation_id)
    if (call === undefined) return
    if (frame.error !== undefined) call.reject(IIIError.fromWire(frame.error))
    else call.resolve(frame.result === undefined ? null : frame.result)
  }

  /** Rejects the call an engine `error` frame refers to (`ref`); false when it is no call of ours. */
  refuse(frame: ErrorFrame): boolean {
    const call = frame.ref === undefined ? undefined : this.take(frame.ref)
    if (call === undefined) return false
    call.reject(new IIIError(frame.code, frame.message, frame.details))
    return true
  }

  /** The socket dropped: calls already sent fail at once with `invocation_stopped`; queued ones wait on. */
  stopSent(): void {
    for (const [id, call] of this.pending) {
      if (!call.sent) continue
      this.take(id)
      call.reject(
        new IIIError(ErrorCode.InvocationStopped, `the connection dropped while ${call.functionPath} was running`),
      )
    }
  }

  /** Rejects every waiting call with `err` (`bridge_closed` on close, `connection_failed` on a deadline). */
  failAll(err: IIIError): void {
    for (const [id, call] of this.pending) {
      this.take(id)
      this.connection.unqueue(call.queued)
      call.reject(err)
    }
  }

  private take(id: string): PendingCall | undefined {
    const call = this.pending.get(id)
    if (call === undefined) return undefined
    this.pending.delete(id)
    clearTimeout(call.timer)
    return call
  }
}

function closed(): IIIError {
  return new IIIError(ErrorCode.BridgeClosed, 'the bridge was closed')
}

/** An `invokefunction` frame for a call made here, carrying the current trace and baggage on. */
function invokeFrame(function_path: string, data: unknown, trigger?: TriggerMeta, id?: string): InvokeFunctionFrame {
  if (typeof function_path !== 'string' || function_path.length === 0) {
    throw new IIIError(ErrorCode.InvalidArgument, 'function_path must be a non-empty string')
  }
  const frame: InvokeFunctionFrame = { type: 'invokefunction', function_path, data: data === undefined ? null : data }
  if (id !== undefined) frame.invocation_id = id
  if (trigger !== undefined) frame.trigger = trigger
  const ctx = getContext()
  if (ctx !== undefined) {
    frame.traceparent = ctx.traceparent
    if (ctx.baggage !== undefined) frame.baggage = ctx.baggage
  }
  return frame
}
