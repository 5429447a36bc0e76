/**
 * Events: `emit {topic, data, idempotency_key?, message_group_id?, delay_ms?}` delivers `data`
 * to every function with an `event` trigger on that topic.
 *
 * Durable (the default): the emit answers `{event_id, duplicate}` once the event and one
 * delivery per subscription are committed to `<data_dir>/events.db`, or to the cluster's Redis
 * with `adapter: redis` (the default with `--redis`); the {@link Dispatcher}
 * delivers each at least once, with the retry policy of the trigger, and keeps what fails in
 * the dead letters (see docs/events.md). `modules.event: {durable: false}` keeps the lossy
 * in-memory fan-out: delivered once to every trigger, nothing stored, and emit answers null.
 */
import { join } from 'node:path'
import { ErrorCode, IIIError } from '../../errors.js'
import type { SharedRedis } from '../../redis/shared.js'
import { fireTriggers } from '../fire.js'
import type { CallContext, EngineApi, EngineModule, TriggerRecord } from '../module.js'
import { registerEventBuiltins } from './builtins.js'
import { Dispatcher } from './dispatcher.js'
import type { EventOptions } from './options.js'
import { parseEmit, parseTriggerConfig } from './policy.js'
import type { EventQueue, SubscriptionStats } from './queue.js'
import { RedisEventQueue } from './queue-redis.js'
import { SqliteEventQueue } from './queue-sqlite.js'

const DEFAULTS: EventOptions = {
  durable: true,
  subscription_ttl_ms: 3_600_000,
  idempotency_ttl_ms: 86_400_000,
  dead_letter_retention_ms: 7 * 86_400_000,
  sweep_interval_ms: 1000,
  synchronous: 'normal',
}

export class EventModule implements EngineModule {
  readonly name = 'event'
  private readonly topics = new Map<string, TriggerRecord[]>()
  private queue: EventQueue | null = null
  private dispatcher: Dispatcher | null = null
  private readonly options: EventOptions

  constructor(
    options: Partial<EventOptions> = {},
    private readonly shared: SharedRedis | null = null,
  ) {
    this.options = { ...DEFAULTS, ...options }
  }

  /**
   * The store of durable events: the engine's `events.db`, or with `adapter: redis` one queue
   * in the cluster's Redis, where this engine holds the subscriptions of its own workers and
   * claims their deliveries (see docs/events.md, "Durable events on Redis").
   */
  /** Counts per subscription of the durable queue (`events.stats`); null without one. For the metrics. */
  stats(): Promise<SubscriptionStats[]> | null {
    return this.queue === null ? null : this.queue.stats(Date.now())
  }

  private openQueue(engine: EngineApi): EventQueue {
    if (this.options.adapter !== 'redis') {
      return new SqliteEventQueue({
        file: join(engine.options.dataDir, 'events.db'),
        synchronous: this.options.synchronous,
      })
    }
    const shared = this.shared
    if (shared === null) {
      throw new IIIError(ErrorCode.InvalidArgument, 'modules.event.adapter is redis but the engine has no Redis')
    }
    return new RedisEventQueue({
      url: shared.settings.url,
      prefix: shared.prefix,
      client: shared.client,
      holder: shared.engineId,
      bus: shared,
    })
  }

  async start(engine: EngineApi): Promise<void> {
    if (!this.options.durable) return this.startInMemory(engine)
    const queue = this.openQueue(engine)
    this.queue = queue
    const dispatcher = new Dispatcher(engine, queue, this.options)
    this.dispatcher = dispatcher
    await dispatcher.start()
    const timeout = engine.options.bridge.invocationTimeoutMs
    engine.registerTriggerType(
      'event',
      {
        register: (t) => {
          const { topic, policy } = parseTriggerConfig(t.id, t.config, timeout)
          return dispatcher.addTrigger(t, topic, policy)
        },
        unregister: (t) => dispatcher.removeTrigger(t, t.config.topic as string),
      },
      'Runs the function for every event emitted on config.topic, at least once, with retries',
    )
    engine.registerFunction(
      'emit',
      (input, ctx: CallContext) => {
        const e = parseEmit(input)
        return dispatcher.emit({
          topic: e.topic,
          data: JSON.stringify(e.data ?? null),
          idempotency_key: e.idempotency_key,
          message_group_id: e.message_group_id,
          delay_ms: e.delay_ms,
          traceparent: ctx.traceparent,
          baggage: ctx.baggage,
        })
      },
      {
        description:
          'Stores {topic, data, idempotency_key?, message_group_id?, delay_ms?} for every subscriber -> {event_id, duplicate}',
      },
    )
    registerEventBuiltins(engine, queue, dispatcher)
  }

  /** `durable: false`: deliver once, in memory, to every trigger of the topic. */
  private startInMemory(engine: EngineApi): void {
    const timeout = engine.options.bridge.invocationTimeoutMs
    engine.registerTriggerType(
      'event',
      {
        register: (t) => {
          const { topic } = parseTriggerConfig(t.id, t.config, timeout)
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
      'Runs the function for every event emitted on config.topic (in memory, at most once)',
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
        for (const field of ['idempotency_key', 'message_group_id', 'delay_ms']) {
          if (input[field] !== undefined) {
            throw new IIIError(ErrorCode.InvalidArgument, `emit: ${field} needs durable events (modules.event.durable)`)
          }
        }
        const subscribers = this.topics.get(input.topic)
        if (subscribers === undefined) return null
        const topic: string = input.topic
        fireTriggers(engine, subscribers, input.data, (t) => ({ type: 'event', id: t.id, topic }), ctx)
        return null
      },
      { description: 'Delivers {topic, data} to every function subscribed to the topic (in memory)' },
    )
  }

  /** Durable deliveries: no new claims; resolves when the ones in flight are settled. */
  async drain(): Promise<void> {
    await this.dispatcher?.drain()
  }

  async stop(): Promise<void> {
    this.topics.clear()
    const queue = this.queue
    this.queue = null
    await this.dispatcher?.stop()
    this.dispatcher = null
    await queue?.close()
  }
}
