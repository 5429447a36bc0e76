/**
 * What the engine asks this worker to run: an incoming `invokefunction` runs its handler inside
 * an invocation context and is answered with an `invocationresult`; a trigger the engine
 * forwards for a trigger type this worker owns goes to that type's handler and is answered
 * with a `triggerregistrationresult`.
 *
 * A handler that throws an `IIIError` (or a `{code, message}` object) keeps its code; anything
 * else thrown becomes `invocation_failed` with its message (protocol/sdk-cases.json,
 * `thrown_errors`). If even that cannot be built (a thrown value whose fields throw), the
 * answer is `internal_error`, so the caller always gets an answer and this process never
 * crashes on a handler's error.
 */
import { isDeepStrictEqual } from 'node:util'
import type { Connection } from './connection.js'
import { type InvocationContext, newTraceparent, runWithContext, spanIdOf, traceIdOf } from './context.js'
import { ErrorCode, toWireError, type WireError } from './errors.js'
import type { Logger } from './logger.js'
import type {
  InvocationResultFrame,
  InvokeFunctionFrame,
  RegisterTriggerFrame,
  TriggerRegistrationResultFrame,
} from './protocol.js'
import type { Registry } from './registry.js'
import type { TriggerConfig } from './types.js'

/** The wire error for anything a handler threw. Never throws. */
export function thrownError(err: unknown, fallbackCode: string = ErrorCode.InvocationFailed): WireError {
  try {
    const wire = toWireError(err, fallbackCode)
    const out: WireError = { code: String(wire.code), message: String(wire.message) }
    if (wire.details !== undefined) out.details = wire.details
    return out
  } catch (inner) {
    let why = 'unknown'
    try {
      why = (inner as Error).message
    } catch {}
    return { code: ErrorCode.Internal, message: `the handler threw something that cannot be reported: ${why}` }
  }
}

export class Invocations {
  /** Handlers running now. */
  private running = 0
  private idleWaiters: Array<() => void> = []
  /**
   * @param registry where handlers are found
   * @param connection where answers go
   * @param logger the bridge's logger; each call gets a child bound to its trace and function
   * @param log the SDK's own log
   */
  constructor(
    private readonly registry: Registry,
    private readonly connection: Connection,
    private readonly logger: Logger,
    private readonly log: Logger,
  ) {}

  /** Handlers running now. */
  get active(): number {
    return this.running
  }

  /** Resolves when no handler is running, or after `timeoutMs`; true when idle. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.running === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done)
        resolve(false)
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        resolve(true)
      }
      this.idleWaiters.push(done)
    })
  }

  /** Runs the handler of an incoming call and answers it (unless it is fire-and-forget). */
  async run(frame: InvokeFunctionFrame): Promise<void> {
    this.running++
    try {
      await this.runOne(frame)
    } finally {
      if (--this.running === 0) for (const w of this.idleWaiters.splice(0)) w()
    }
  }

  private async runOne(frame: InvokeFunctionFrame): Promise<void> {
    const generation = this.connection.generation
    const id = frame.invocation_id
    const entry = this.registry.functions.get(frame.function_path)
    const traceparent = traceIdOf(frame.traceparent) !== undefined ? (frame.traceparent as string) : newTraceparent()
    const traceId = traceIdOf(traceparent) as string
    const ctx: InvocationContext = {
      traceId,
      traceparent,
      functionPath: frame.function_path,
      logger: this.logger.child({ traceId, spanId: spanIdOf(traceparent), functionPath: frame.function_path }),
    }
    if (frame.baggage !== undefined) ctx.baggage = frame.baggage
    if (frame.trigger !== undefined) ctx.trigger = frame.trigger
    if (id !== undefined) ctx.invocationId = id
    let reply: Pick<InvocationResultFrame, 'result' | 'error'>
    if (entry === undefined) {
      reply = {
        error: { code: ErrorCode.FunctionNotFound, message: `${frame.function_path} is not registered on this worker` },
      }
    } else {
      try {
        const result = await runWithContext(ctx, () => entry.handler(frame.data, ctx))
        reply = { result: result === undefined ? null : result }
      } catch (err) {
        reply = { error: thrownError(err) }
        if (id === undefined) ctx.logger.error(`handler failed: ${reply.error?.message}`)
      }
    }
    if (id === undefined) return
    // the engine already failed calls of an earlier connection with invocation_stopped
    if (generation !== this.connection.generation || !this.connection.isOpen) return
    const answer: InvocationResultFrame = {
      type: 'invocationresult',
      invocation_id: id,
      function_path: frame.function_path,
      traceparent,
      ...reply,
    }
    if (ctx.baggage !== undefined) answer.baggage = ctx.baggage
    try {
      this.connection.send(answer)
    } catch (err) {
      const message = (err as Error).message.replace(/^the frame is not JSON/, 'the result is not JSON')
      this.connection.send({
        type: 'invocationresult',
        invocation_id: id,
        function_path: frame.function_path,
        traceparent,
        error: { code: ErrorCode.InvocationFailed, message },
      })
    }
  }

  /**
   * A trigger of a type this worker owns, forwarded by the engine. One already known with the
   * same function and config (the engine forwards them again after a reconnect) is
   * acknowledged without calling the handler again.
   */
  async registerTrigger(frame: RegisterTriggerFrame): Promise<void> {
    const { id, trigger_type, function_path, config } = frame
    const trigger: TriggerConfig = { id, trigger_type, function_path, config }
    const owner = this.registry.triggerTypes.get(trigger.trigger_type)
    const known = this.registry.ownedTriggers.get(trigger.id)
    let error: WireError | undefined
    if (owner === undefined) {
      error = {
        code: ErrorCode.InvalidTrigger,
        message: `this worker does not own trigger type ${trigger.trigger_type}`,
      }
    } else if (
      known === undefined ||
      known.function_path !== trigger.function_path ||
      !isDeepStrictEqual(known.config, trigger.config)
    ) {
      try {
        if (known !== undefined) await owner.handler.unregisterTrigger(known)
        await owner.handler.registerTrigger(trigger)
        this.registry.ownedTriggers.set(trigger.id, trigger)
      } catch (err) {
        this.registry.ownedTriggers.delete(trigger.id)
        error = thrownError(err, ErrorCode.InvalidTrigger)
      }
    }
    const result: TriggerRegistrationResultFrame = {
      type: 'triggerregistrationresult',
      id: trigger.id,
      trigger_type: trigger.trigger_type,
      function_path: trigger.function_path,
    }
    if (error !== undefined) result.error = error
    try {
      this.connection.send(result)
    } catch (err) {
      // the refusal's details were not JSON: refuse without them
      result.error = { code: error?.code ?? ErrorCode.Internal, message: (err as Error).message }
      this.connection.send(result)
    }
  }

  /** The engine took back a forwarded trigger: tells the type's handler. */
  async unregisterTrigger(id: string, triggerType?: string): Promise<void> {
    const known = this.registry.ownedTriggers.get(id)
    if (known === undefined) return
    this.registry.ownedTriggers.delete(id)
    const owner = this.registry.triggerTypes.get(triggerType ?? known.trigger_type)
    try {
      await owner?.handler.unregisterTrigger(known)
    } catch (err) {
      this.log.warn(`unregisterTrigger of ${known.trigger_type} failed for ${id}: ${thrownError(err).message}`)
    }
  }
}
