/**
 * The FlowContext of one call: emit, trigger, input, state, streams, logger and trace id.
 * Emitting from inside the handler carries the call's trace on (the SDK runs every handler in
 * its invocation context), so the steps downstream log the same trace id.
 */
import type { Bridge, EmitOptions, InvocationContext } from '@iii-dev/sdk'
import type { Emit, FlowContext, MatchHandlers, MotiaStream, TriggerInput, TriggerMetadata } from './types.js'

export interface ContextOptions {
  bridge: Bridge
  step: string
  emits: readonly string[] | undefined
  trigger: TriggerMetadata
  input: TriggerInput
  invocation: InvocationContext
  streams: Record<string, MotiaStream>
}

/** `ctx.getData()`, `ctx.match()` and `ctx.is.*`, read from the trigger that ran. */
const TYPES = ['api', 'event', 'cron', 'state', 'stream'] as const
/** `ctx.is` depends only on the trigger type: one shared object per type, nothing built per call. */
const IS = Object.fromEntries(
  TYPES.map((ran) => [ran, Object.freeze(Object.fromEntries(TYPES.map((t) => [t, (_input?: unknown) => t === ran])))]),
) as Record<TriggerMetadata['type'], FlowContext['is']>

function triggerHelpers(trigger: TriggerMetadata, input: TriggerInput) {
  return {
    getData: () => input.data,
    match: async (handlers: MatchHandlers) => {
      const h = handlers[trigger.type] ?? handlers.default
      if (h === undefined) {
        throw new Error(`ctx.match: no handler for trigger type ${trigger.type} and no default`)
      }
      return h((input.request ?? input.data) as never)
    },
    is: IS[trigger.type],
  }
}

export function createFlowContext(o: ContextOptions): FlowContext {
  const logger = o.invocation.logger
  const emit = ((topicOrEvent: string | { topic: string; data?: unknown }, data?: unknown, opts?: EmitOptions) => {
    const topic = typeof topicOrEvent === 'string' ? topicOrEvent : topicOrEvent?.topic
    const payload = typeof topicOrEvent === 'string' ? data : topicOrEvent?.data
    // emit({topic, data}, options): the options come second.
    const options = typeof topicOrEvent === 'string' ? opts : (data as EmitOptions | undefined)
    if (typeof topic !== 'string' || topic.length === 0) {
      return Promise.reject(new TypeError('emit needs a topic: emit(topic, data) or emit({topic, data})'))
    }
    if (o.emits !== undefined && !o.emits.includes(topic)) {
      logger.warn(`step ${o.step} emits "${topic}", which is not in its config.emits`)
    }
    return o.bridge.emit(topic, payload === undefined ? null : payload, options)
  }) as Emit
  return {
    emit,
    trigger: o.trigger,
    input: o.input,
    state: o.bridge.state,
    streams: o.streams,
    logger,
    traceId: o.invocation.traceId,
    step: o.step,
    ...triggerHelpers(o.trigger, o.input),
  } as unknown as FlowContext
}
