/**
 * Firing triggers: the one loop every module that runs functions on a change uses (events,
 * cron, state, streams). It never waits for the functions and never throws.
 */
import { ErrorCode } from '../errors.js'
import { RawJson, type TriggerMeta } from '../protocol.js'
import type { EngineApi, TriggerRecord } from './module.js'

/** Trace context of the call that caused the change, passed on to the triggered calls. */
export interface FireContext {
  traceparent?: string
  baggage?: string
}

/**
 * Calls the function of every trigger in `targets` with `payload`, each with the trigger meta
 * `meta(t)` (so its conditions run first). With more than one target the payload is
 * serialized once for all of them. A failure is logged, at debug level when a condition said
 * no and at warn level otherwise; it never reaches the caller.
 */
export function fireTriggers(
  engine: EngineApi,
  targets: readonly TriggerRecord[],
  payload: unknown,
  meta: (t: TriggerRecord) => TriggerMeta,
  ctx?: FireContext,
): void {
  if (targets.length === 0) return
  const data = targets.length > 1 ? new RawJson(JSON.stringify(payload ?? null)) : (payload ?? null)
  for (const t of targets) {
    const trigger = meta(t)
    engine
      .invoke(t.function_path, data, { trigger, traceparent: ctx?.traceparent, baggage: ctx?.baggage })
      .catch((err) => {
        const level = err?.code === ErrorCode.ConditionFailed ? 'debug' : 'warn'
        engine.log[level](`${trigger.type} trigger ${t.id} -> ${t.function_path}: ${err?.message ?? err}`)
      })
  }
}
