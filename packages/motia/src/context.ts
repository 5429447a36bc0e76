/**
 * The FlowContext of one call: emit, trigger, input, state, streams, logger and trace id.
 * Emitting from inside the handler carries the call's trace on (the SDK runs every handler in
 * its invocation context), so the steps downstream log the same trace id.
 */
import type { Bridge, EmitOptions, InvocationContext, Stream } from '@iii-dev/sdk'
import type { Emit, FlowContext, TriggerInput, TriggerMetadata } from './types.js'

export interface ContextOptions {
  bridge: Bridge
  step: string
  emits: readonly string[] | undefined
  trigger: TriggerMetadata
  input: TriggerInput
  invocation: InvocationContext
  streams: Record<string, Stream>
}

export function createFlowContext(o: ContextOptions): FlowContext {
  const logger = o.invocation.logger
  const emit: Emit = (topicOrEvent: string | { topic: string; data?: unknown }, data?: unknown, opts?: EmitOptions) => {
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
  }
  return {
    emit,
    trigger: o.trigger,
    input: o.input,
    state: o.bridge.state,
    streams: o.streams,
    logger,
    traceId: o.invocation.traceId,
    step: o.step,
  }
}
