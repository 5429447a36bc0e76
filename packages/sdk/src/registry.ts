/**
 * What this worker has registered (functions, trigger types, triggers, conditions, services),
 * kept so that all of it is replayed after every reconnect, and the triggers the engine
 * forwarded to this worker as the owner of their type. Data only: no I/O.
 */
import type {
  Frame,
  RegisterConditionFrame,
  RegisterFunctionFrame,
  RegisterServiceFrame,
  RegisterTriggerFrame,
  RegisterTriggerTypeFrame,
} from './protocol.js'
import type { FunctionHandler, TriggerConfig, TriggerTypeHandler } from './types.js'

/** A registered function: its frame and its handler. */
export interface FunctionEntry {
  frame: RegisterFunctionFrame
  handler: FunctionHandler
}

/** A trigger type this worker owns: its frame and its handler. */
export interface TriggerTypeEntry {
  frame: RegisterTriggerTypeFrame
  handler: TriggerTypeHandler
}

export class Registry {
  readonly functions = new Map<string, FunctionEntry>()
  readonly triggerTypes = new Map<string, TriggerTypeEntry>()
  readonly triggers = new Map<string, RegisterTriggerFrame>()
  /** In registration order; the same pair may be held more than once (see `registerCondition`). */
  readonly conditions: RegisterConditionFrame[] = []
  readonly services = new Map<string, RegisterServiceFrame>()
  /** Triggers the engine forwarded to this worker as the owner of their type, by id. */
  readonly ownedTriggers = new Map<string, TriggerConfig>()

  /** True while some registration of this exact condition pair is held. */
  holdsCondition(function_path: string, condition_function_path: string): boolean {
    return this.conditions.some(
      (c) => c.function_path === function_path && c.condition_function_path === condition_function_path,
    )
  }

  /**
   * Every registration frame, in the order both SDKs replay them (protocol/sdk-cases.json,
   * `replay_order`): services, trigger types, functions, conditions, triggers; within a kind,
   * in registration order. Things are sent before what refers to them, and conditions before
   * triggers, so no trigger fires before its conditions are bound. A condition pair held twice
   * is sent once (the engine keeps one binding per pair).
   */
  replay(): Frame[] {
    const frames: Frame[] = [...this.services.values()]
    for (const t of this.triggerTypes.values()) frames.push(t.frame)
    for (const f of this.functions.values()) frames.push(f.frame)
    const seen = new Set<string>()
    for (const c of this.conditions) {
      const key = JSON.stringify([c.function_path, c.condition_function_path])
      if (seen.has(key)) continue
      seen.add(key)
      frames.push(c)
    }
    for (const t of this.triggers.values()) frames.push(t)
    return frames
  }
}
