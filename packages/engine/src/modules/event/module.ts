/**
 * Events: `emit {topic, data}` delivers `data` to every function with an `event` trigger on
 * that topic. The payload is serialized once for all subscribers.
 */
import { ErrorCode, IIIError } from '../../errors.js'
import { fireTriggers } from '../fire.js'
import type { EngineApi, EngineModule, TriggerRecord } from '../module.js'

export class EventModule implements EngineModule {
  readonly name = 'event'
  private readonly topics = new Map<string, TriggerRecord[]>()

  async start(engine: EngineApi): Promise<void> {
    engine.registerTriggerType(
      'event',
      {
        register: (t) => {
          const topic = t.config.topic
          if (typeof topic !== 'string' || topic.length === 0) {
            throw new IIIError(ErrorCode.InvalidTrigger, `event trigger ${t.id} needs config.topic, a non-empty string`)
          }
          const list = this.topics.get(topic)
          if (list === undefined) this.topics.set(topic, [t])
          else list.push(t)
        },
        unregister: (t) => {
          const topic = t.config.topic as string
          const list = this.topics.get(topic)?.filter((x) => x.id !== t.id)
          if (list === undefined || list.length === 0) this.topics.delete(topic)
          else this.topics.set(topic, list)
        },
      },
      'Runs the function for every event emitted on config.topic',
    )
    engine.registerFunction(
      'emit',
      (input, ctx) => {
        if (typeof input !== 'object' || input === null || typeof input.topic !== 'string' || input.topic === '') {
          throw new IIIError(
            ErrorCode.InvalidArgument,
            'emit needs an object {topic, data} with a non-empty string topic',
          )
        }
        const subscribers = this.topics.get(input.topic)
        if (subscribers === undefined) return null
        const topic: string = input.topic
        fireTriggers(engine, subscribers, input.data, (t) => ({ type: 'event', id: t.id, topic }), ctx)
        return null
      },
      { description: 'Delivers {topic, data} to every function subscribed to the topic' },
    )
  }

  async stop(): Promise<void> {
    this.topics.clear()
  }
}
