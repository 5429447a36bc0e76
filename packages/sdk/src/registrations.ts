/**
 * The registration methods of a bridge, as one composed object: each checks its input, records
 * the registration in the {@link Registry} (replayed after every reconnect) and sends it at once
 * when the socket is open. Each returns a handle whose `unregister()` takes it back (twice is
 * safe).
 *
 * These methods return a handle, not a promise, so a bad argument throws an `IIIError` with
 * code `invalid_argument` synchronously: a handle for a registration that never happened would
 * hide the mistake until the engine never calls the function.
 */
import { randomUUID } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import { ErrorCode, IIIError } from './errors.js'
import type {
  Frame,
  RegisterConditionFrame,
  RegisterFunctionFrame,
  RegisterServiceFrame,
  RegisterTriggerFrame,
  RegisterTriggerTypeFrame,
} from './protocol.js'
import type { Registry } from './registry.js'
import type {
  ConditionInput,
  FunctionHandler,
  FunctionMessage,
  FunctionRef,
  Registration,
  ServiceInput,
  TriggerInput,
  TriggerRef,
  TriggerTypeHandler,
  TriggerTypeInput,
} from './types.js'

/** Throws `invalid_argument` unless `value` is a non-empty string. */
export function requireText(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new IIIError(ErrorCode.InvalidArgument, `${name} must be a non-empty string`)
  }
}

function requireObject(name: string, value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new IIIError(ErrorCode.InvalidArgument, `${name} must be an object`)
  }
}

export class Registrations {
  /**
   * @param registry where registrations are kept
   * @param send sends a frame now if the socket is open (nothing otherwise: the replay covers
   *   it); throws `invalid_argument` when the frame is not JSON
   */
  constructor(
    private readonly registry: Registry,
    private readonly send: (frame: Frame) => void,
  ) {}

  /** See `Bridge.registerFunction`. */
  registerFunction(input: FunctionMessage, handler: FunctionHandler): FunctionRef {
    requireObject('the function message', input)
    const path = input.function_path
    requireText('function_path', path)
    if (typeof handler !== 'function') {
      throw new IIIError(ErrorCode.InvalidArgument, `the handler of ${path} must be a function`)
    }
    const frame: RegisterFunctionFrame = { type: 'registerfunction', function_path: path }
    if (input.description !== undefined) frame.description = input.description
    if (input.request_format !== undefined) frame.request_format = input.request_format
    if (input.response_format !== undefined) frame.response_format = input.response_format
    if (input.metadata !== undefined) frame.metadata = input.metadata
    const previous = this.registry.functions.get(path)
    if (previous === undefined || !isDeepStrictEqual(previous.frame, frame)) this.send(frame)
    const entry = { frame, handler }
    this.registry.functions.set(path, entry)
    return {
      function_path: path,
      unregister: () => {
        if (this.registry.functions.get(path) !== entry) return
        this.registry.functions.delete(path)
        this.send({ type: 'unregisterfunction', function_path: path })
      },
    }
  }

  /** See `Bridge.registerTrigger`. */
  registerTrigger(input: TriggerInput): TriggerRef {
    requireObject('the trigger', input)
    requireText('trigger_type', input.trigger_type)
    requireText('function_path', input.function_path)
    if (input.id !== undefined) requireText('id', input.id)
    if (input.config !== undefined) requireObject('config', input.config)
    const frame: RegisterTriggerFrame = {
      type: 'registertrigger',
      id: input.id ?? randomUUID(),
      trigger_type: input.trigger_type,
      function_path: input.function_path,
      config: input.config ?? {},
    }
    this.send(frame)
    this.registry.triggers.set(frame.id, frame)
    return {
      id: frame.id,
      unregister: () => {
        if (this.registry.triggers.get(frame.id) !== frame) return
        this.registry.triggers.delete(frame.id)
        this.send({ type: 'unregistertrigger', id: frame.id, trigger_type: frame.trigger_type })
      },
    }
  }

  /** See `Bridge.registerCondition`. */
  registerCondition(input: ConditionInput): Registration {
    requireObject('the condition', input)
    requireText('function_path', input.function_path)
    requireText('condition_function_path', input.condition_function_path)
    if (input.handler !== undefined && typeof input.handler !== 'function') {
      throw new IIIError(ErrorCode.InvalidArgument, 'the condition handler must be a function')
    }
    const frame: RegisterConditionFrame = {
      type: 'registercondition',
      function_path: input.function_path,
      condition_function_path: input.condition_function_path,
    }
    const fn = input.handler && this.registerFunction({ function_path: frame.condition_function_path }, input.handler)
    this.registry.conditions.push(frame)
    this.send(frame)
    return {
      unregister: () => {
        const i = this.registry.conditions.indexOf(frame)
        if (i < 0) return
        this.registry.conditions.splice(i, 1)
        if (!this.registry.holdsCondition(frame.function_path, frame.condition_function_path)) {
          this.send({
            type: 'unregistercondition',
            function_path: frame.function_path,
            condition_function_path: frame.condition_function_path,
          })
        }
        fn?.unregister()
      },
    }
  }

  /** See `Bridge.registerTriggerType`. */
  registerTriggerType(input: TriggerTypeInput, handler: TriggerTypeHandler): Registration & { id: string } {
    requireObject('the trigger type', input)
    requireText('id', input.id)
    if (typeof handler?.registerTrigger !== 'function' || typeof handler?.unregisterTrigger !== 'function') {
      throw new IIIError(
        ErrorCode.InvalidArgument,
        `the handler of trigger type ${input.id} needs registerTrigger and unregisterTrigger functions`,
      )
    }
    const id = input.id
    const frame: RegisterTriggerTypeFrame = { type: 'registertriggertype', id }
    if (input.description !== undefined) frame.description = input.description
    this.send(frame)
    const entry = { frame, handler }
    this.registry.triggerTypes.set(id, entry)
    return {
      id,
      unregister: () => {
        if (this.registry.triggerTypes.get(id) !== entry) return
        this.registry.triggerTypes.delete(id)
        for (const [tid, t] of this.registry.ownedTriggers)
          if (t.trigger_type === id) this.registry.ownedTriggers.delete(tid)
        this.send({ type: 'unregistertriggertype', id })
      },
    }
  }

  /** See `Bridge.registerService`. */
  registerService(input: ServiceInput): void {
    requireObject('the service', input)
    requireText('id', input.id)
    const frame: RegisterServiceFrame = { type: 'registerservice', ...input }
    this.send(frame)
    this.registry.services.set(input.id, frame)
  }
}
