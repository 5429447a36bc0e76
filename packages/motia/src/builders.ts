/**
 * The original Motia's helpers for writing steps: trigger builders (`api`, `event`, `cron`,
 * `state`, `stream`), `step(config, handler)` and `multiTriggerStep(config)` with one handler
 * per trigger type. They build the same plain objects a step file can write by hand.
 */
import type {
  ApiRequest,
  ApiTrigger,
  CronTrigger,
  EventTrigger,
  FlowContext,
  Middleware,
  QueryParam,
  StateTrigger,
  StepConfig,
  StepHandler,
  StepSchemaInput,
  StreamTrigger,
  TriggerCondition,
} from './types.js'
import type { Handlers } from './typing.js'

/** The options of {@link api}. */
export interface ApiOptions<S extends StepSchemaInput | undefined = StepSchemaInput | undefined> {
  bodySchema?: S
  querySchema?: StepSchemaInput
  responseSchema?: Readonly<Record<number | string, StepSchemaInput>>
  queryParams?: readonly QueryParam[]
  middleware?: readonly Middleware[]
  description?: string
}

/** The options of {@link event}. */
export interface EventOptions<S extends StepSchemaInput | undefined = StepSchemaInput | undefined> {
  input?: S
  infrastructure?: unknown
}

function withCondition<T extends object>(t: T, condition: TriggerCondition | undefined): T {
  return condition === undefined ? t : { ...t, condition }
}

/** An `api` trigger: `api('POST', '/orders', {bodySchema}, condition?)`. */
export function api<S extends StepSchemaInput | undefined = undefined>(
  method: ApiTrigger['method'],
  path: string,
  options?: ApiOptions<S>,
  condition?: TriggerCondition,
): ApiTrigger<S> & { type: 'api' } {
  return withCondition({ type: 'api' as const, method, path, ...options }, condition) as ApiTrigger<S> & {
    type: 'api'
  }
}

/** An `event` trigger: `event('order.created', {input}, condition?)`. */
export function event<S extends StepSchemaInput | undefined = undefined>(
  topic: string,
  options?: EventOptions<S>,
  condition?: TriggerCondition,
): EventTrigger<S> & { type: 'event' } {
  return withCondition({ type: 'event' as const, topic, ...options }, condition) as EventTrigger<S> & {
    type: 'event'
  }
}

/** A `cron` trigger: `cron('0 * * * *', condition?)`. */
export function cron(expression: string, condition?: TriggerCondition): CronTrigger & { type: 'cron' } {
  return withCondition({ type: 'cron' as const, expression }, condition)
}

/** A `state` trigger (every group, or `groupId`'s). */
export function state(condition?: TriggerCondition, groupId?: string): StateTrigger & { type: 'state' } {
  const t: StateTrigger & { type: 'state' } = { type: 'state' }
  if (groupId !== undefined) t.groupId = groupId
  return withCondition(t, condition)
}

/** A `stream` trigger on `streamName`. */
export function stream(
  streamName: string,
  condition?: TriggerCondition,
  filter: { groupId?: string; itemId?: string } = {},
): StreamTrigger & { type: 'stream' } {
  return withCondition({ type: 'stream' as const, streamName, ...filter }, condition)
}

/** A step definition `{config, handler}`, for `export const { config, handler } = step(...)`. */
export interface StepModule<C extends StepConfig> {
  config: C
  handler: Handlers<C>
}

/** `step(config, handler)` gives `{config, handler}`; `step(config).handle(handler)` the same. */
export function step<const C extends StepConfig>(config: C, handler: Handlers<C>): StepModule<C>
export function step<const C extends StepConfig>(config: C): { config: C; handle(handler: Handlers<C>): StepModule<C> }
export function step<const C extends StepConfig>(config: C, handler?: Handlers<C>) {
  if (handler !== undefined) return { config, handler }
  return { config, handle: (h: Handlers<C>) => ({ config, handler: h }) }
}

type Ctx = FlowContext
/** One handler per trigger type, for {@link multiTriggerStep}. */
export interface TriggerHandlers {
  api?: (request: ApiRequest, ctx: Ctx) => unknown
  event?: (data: any, ctx: Ctx) => unknown
  /** Called `(ctx)`, as the original did. */
  cron?: (ctx: Ctx) => unknown
  state?: (input: any, ctx: Ctx) => unknown
  stream?: (input: any, ctx: Ctx) => unknown
}

/** The chain {@link multiTriggerStep} returns. */
export interface MultiTriggerBuilder<C extends StepConfig> {
  config: C
  onApi(h: NonNullable<TriggerHandlers['api']>): MultiTriggerBuilder<C>
  onEvent(h: NonNullable<TriggerHandlers['event']>): MultiTriggerBuilder<C>
  onCron(h: NonNullable<TriggerHandlers['cron']>): MultiTriggerBuilder<C>
  onState(h: NonNullable<TriggerHandlers['state']>): MultiTriggerBuilder<C>
  onStream(h: NonNullable<TriggerHandlers['stream']>): MultiTriggerBuilder<C>
  /** The step: `{config, handler}`; `handlers` given here are added to the chained ones. */
  handlers(h?: TriggerHandlers): { config: C; handler: StepHandler }
}

/**
 * A step whose handler is picked by the trigger type that ran it:
 * `export const { config, handler } = multiTriggerStep(config).onApi(...).onEvent(...).handlers()`.
 * A trigger type without a handler fails the call, naming the types that have one.
 */
export function multiTriggerStep<const C extends StepConfig>(config: C): MultiTriggerBuilder<C> {
  const collected: TriggerHandlers = {}
  const handler: StepHandler = async (input, ctx) => {
    const type = ctx.trigger.type
    const h = collected[type] as ((...args: unknown[]) => unknown) | undefined
    if (h === undefined) {
      const have = Object.keys(collected).join(', ') || 'none'
      throw new Error(`step ${ctx.step}: no handler for trigger type ${type} (handlers: ${have})`)
    }
    return type === 'cron' ? h(ctx) : h(input, ctx)
  }
  const on =
    <K extends keyof TriggerHandlers>(type: K) =>
    (h: NonNullable<TriggerHandlers[K]>) => {
      collected[type] = h
      return builder
    }
  const builder: MultiTriggerBuilder<C> = {
    config,
    onApi: on('api'),
    onEvent: on('event'),
    onCron: on('cron'),
    onState: on('state'),
    onStream: on('stream'),
    handlers: (h) => {
      if (h !== undefined) Object.assign(collected, h)
      return { config, handler }
    },
  }
  return builder
}
