/**
 * Registering steps on a bridge. Trigger `i` of step `Name` is the function
 * `steps.Name:trigger:i` bound to one engine trigger; its conditions are the functions
 * `steps.Name:trigger:i:condition`, `...:condition:1`, ... bound with `registercondition` in
 * that order, so the engine runs them in order and stops at the first `false`.
 *
 * Hot reload replaces a step: the new version's functions, conditions and triggers are
 * registered first, then the old version's are taken back. A path both versions use stays
 * registered and bound (the SDK hands the function to the new handler, and keeps a condition
 * binding while a registration of it is held); the rest is unregistered, conditions with
 * `unregistercondition`.
 */
import type { Bridge, FunctionRef, InvocationContext, Registration } from '@iii-dev/sdk'
import { precompile, runApi } from './api.js'
import { createFlowContext } from './context.js'
import { type AppIdentity, stepRegistration } from './registration.js'
import {
  checkStepConfig,
  conditionPath,
  conditionsOf,
  handlerInput,
  MotiaConfigError,
  normalizeInput,
  topicsOf,
  triggerMetadata,
  triggerPath,
} from './triggers.js'
import type { ApiHandler, Condition, FlowContext, MotiaStream, StepDefinition, Trigger } from './types.js'

/** A registered step; `unregister()` takes its functions and triggers back (twice is safe). */
export interface StepHandle extends Registration {
  name: string
  file?: string
  functions: string[]
  /** The engine trigger id of each trigger, by index (an error frame names the refused one). */
  triggerIds: string[]
}

export class StepRegistry {
  private readonly steps = new Map<string, StepHandle>()

  /**
   * @param bridge the worker's connection
   * @param streams the declared streams by name; read at each call, so it may change
   */
  constructor(
    private readonly bridge: Bridge,
    private readonly streams: Record<string, MotiaStream>,
    private readonly identity?: AppIdentity,
  ) {}

  /** The registered steps by name. */
  get names(): string[] {
    return [...this.steps.keys()]
  }

  /** Registers a step; throws {@link MotiaConfigError} when its config is wrong or its name is taken. */
  register(def: StepDefinition): StepHandle {
    const where = def.file ?? 'step'
    checkStepConfig(def.config, where)
    if (typeof def.handler !== 'function')
      throw new MotiaConfigError(`${where}: does not export a \`handler\` function`)
    const { config } = def
    config.triggers.forEach((t, i) => {
      if (t.type !== 'api') return
      try {
        precompile(t, `config.triggers[${i}]`)
      } catch (err) {
        throw new MotiaConfigError(`${where}: ${(err as Error).message}`)
      }
    })
    const taken = this.steps.get(config.name)
    if (taken !== undefined && taken.file !== def.file) {
      throw new MotiaConfigError(
        `${where}: step name "${config.name}" is already used by ${taken.file ?? 'another step'}`,
      )
    }

    const refs: Registration[] = []
    const functions: string[] = []
    const triggerIds: string[] = []
    config.triggers.forEach((trigger, index) => {
      const { fn: reg, trigger: tr } = stepRegistration(config, trigger, index, this.identity)
      functions.push(reg.function_path)
      const fn: FunctionRef = this.bridge.registerFunction({
        ...reg,
        handler: (data: unknown, inv: InvocationContext) => this.run(def, trigger, index, data, inv),
      })
      // conditions are bound before the trigger, in order, so the first call already runs them
      const conditions = conditionsOf(trigger).map((condition, k) =>
        this.bindCondition(def, trigger, index, k, condition),
      )
      const ref = this.bridge.registerTrigger(tr)
      triggerIds.push(ref.id)
      refs.push(ref, ...conditions, fn)
    })

    let done = false
    const handle: StepHandle = {
      name: config.name,
      file: def.file,
      functions,
      triggerIds,
      unregister: () => {
        if (done) return
        done = true
        for (const r of refs) r.unregister()
        if (this.steps.get(config.name) === handle) this.steps.delete(config.name)
      },
    }
    this.steps.set(config.name, handle)
    // the previous version goes after this one is in place, so its routes never disappear
    taken?.unregister()
    return handle
  }

  /** Takes back every step. */
  clear(): void {
    for (const h of [...this.steps.values()]) h.unregister()
  }

  private bindCondition(
    def: StepDefinition,
    trigger: Trigger,
    index: number,
    k: number,
    condition: Condition,
  ): Registration {
    const name = def.config.name
    return this.bridge.registerCondition({
      function_path: triggerPath(name, index),
      condition_function_path: conditionPath(name, index, k),
      handler: async (data: unknown, inv: InvocationContext) => {
        const ctx = this.context(def, trigger, index, data, inv)
        return Boolean(await condition(handlerInput(ctx.input), ctx))
      },
    })
  }

  private context(
    def: StepDefinition,
    trigger: Trigger,
    index: number,
    data: unknown,
    inv: InvocationContext,
  ): FlowContext {
    const meta = triggerMetadata(trigger, index, inv.trigger)
    const input = normalizeInput(meta, data)
    return createFlowContext({
      bridge: this.bridge,
      step: def.config.name,
      emits: topicsOf(def.config.emits),
      trigger: meta,
      input,
      invocation: inv,
      streams: this.streams,
    })
  }

  private async run(
    def: StepDefinition,
    trigger: Trigger,
    index: number,
    data: unknown,
    inv: InvocationContext,
  ): Promise<unknown> {
    const ctx = this.context(def, trigger, index, data, inv)
    if (trigger.type === 'api') {
      return runApi(trigger, def.handler as ApiHandler, ctx.input.request as NonNullable<typeof ctx.input.request>, ctx)
    }
    const result = await def.handler(handlerInput(ctx.input), ctx)
    return result === undefined ? null : result
  }
}
