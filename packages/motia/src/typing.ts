/**
 * Static typing of a project. `Topics`, `Streams` and `StepInputs` are empty interfaces that
 * `motia generate-types` fills in a `types.d.ts` (declaration merging); while they are empty
 * everything stays loosely typed, as before. `Handlers<typeof config>` infers the handler's
 * input from the config's own schemas when the config keeps its literal type
 * (`as const satisfies StepConfig`), and `Handlers<'StepName'>` reads it from `StepInputs`.
 */
import type { ApiResponse, EmitOptions, EmitResult } from '@iii-dev/sdk'
import type {
  ApiRequest,
  FlowContext,
  MotiaStream,
  StateTriggerInput,
  StepConfig,
  StreamTriggerInput,
} from './types.js'

/** Topic name -> the data an emit of it must carry (the subscribers' input schemas). */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging (types.d.ts)
export interface Topics {}

/** Stream name -> its typed stream. */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging (types.d.ts)
export interface Streams {}

/** Step name -> the input its handler gets (a union over its triggers). */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging (types.d.ts)
export interface StepInputs {}

/** Options of one emit: `idempotencyKey`, `messageGroupId`, `delayMs` (docs/events.md). */
export type { EmitOptions }

type Loose = [keyof Topics] extends [never] ? true : false

/** `ctx.emit`: any topic while `Topics` is empty, else only known topics with their data type. */
export type EmitFn = Loose extends true
  ? {
      (topic: string, data?: unknown, options?: EmitOptions): Promise<EmitResult>
      (event: { topic: string; data?: unknown }, options?: EmitOptions): Promise<EmitResult>
    }
  : {
      <T extends keyof Topics & string>(topic: T, data: Topics[T], options?: EmitOptions): Promise<EmitResult>
      <T extends keyof Topics & string>(
        event: { topic: T; data: Topics[T] },
        options?: EmitOptions,
      ): Promise<EmitResult>
    }

/** `ctx.streams`: any name while `Streams` is empty, else the declared streams. */
export type StreamsOf = [keyof Streams] extends [never] ? Record<string, MotiaStream<any>> : Streams

/** The type a schema parses to: Zod's output, a `jsonSchema()` result's type, else `unknown`. */
export type InferSchema<S> = S extends { _zod: { output: infer O } }
  ? O
  : S extends { safeParse(v: unknown): { success: true; data: infer D } }
    ? D
    : S extends { readonly __phantomType?: infer P }
      ? unknown extends P
        ? unknown
        : P
      : unknown

/** What a cron trigger delivers. */
export interface CronInput {
  scheduled_time: string
  actual_time: string
}

/** The handler input one trigger gives (distributes over a union of triggers). */
export type TriggerToInput<T> = T extends { type: 'api'; bodySchema?: infer S }
  ? ApiRequest<undefined extends S ? any : InferSchema<S>>
  : T extends { type: 'event'; input?: infer S }
    ? undefined extends S
      ? any
      : InferSchema<S>
    : T extends { type: 'state' }
      ? StateTriggerInput<any>
      : T extends { type: 'stream' }
        ? StreamTriggerInput<any>
        : T extends { type: 'cron' }
          ? CronInput
          : any

type InputOf<C> = C extends string
  ? C extends keyof StepInputs
    ? StepInputs[C]
    : any
  : C extends { triggers: readonly (infer T)[] }
    ? TriggerToInput<T>
    : any

/**
 * A handler typed by its step: `export const handler: Handlers<typeof config> = async (input, ctx) => ...`
 * (the config declared `as const satisfies StepConfig`), or `Handlers<'StepName'>` after
 * `motia generate-types`.
 */
export type Handlers<C extends StepConfig | string = StepConfig> = (
  input: InputOf<C>,
  ctx: FlowContext<InputOf<C>>,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler may return nothing
) => Promise<ApiResponse | void | undefined> | ApiResponse | void | undefined
