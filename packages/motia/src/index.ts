/**
 * motia: steps on the iii engine. A step is a `*.step.ts` file exporting a `config` (name,
 * triggers, emits, flows) and a `handler`; `motia dev` loads every step of a project and
 * registers trigger `i` of step `Name` as the function `steps.Name:trigger:i`.
 * Also published as `@iii-dev/motia` (the original Motia's name), with the same exports.
 */

export { logger, State, Stream } from '@iii-dev/sdk'
export { composeMiddleware, validateRequest } from './api.js'
export { MotiaApp, type MotiaAppOptions } from './app.js'
export {
  type ApiOptions,
  api,
  cron,
  type EventOptions,
  event,
  type MultiTriggerBuilder,
  multiTriggerStep,
  type StepModule,
  state,
  step,
  stream,
  type TriggerHandlers,
} from './builders.js'
export { createFlowContext } from './context.js'
export { reachable, type SpawnedEngine, spawnEngine } from './engine.js'
export { buildOpenApi, OPENAPI_PATH, type OpenApiInfo } from './openapi.js'
export { type AppIdentity, stepRegistration } from './registration.js'
export { type StepHandle, StepRegistry } from './registry.js'
export { compileSchema, type Issue, isJsonSchema, isZod, jsonSchema, toJsonSchema } from './schema.js'
export { ProjectStream, STREAM_AUTH_FUNCTION } from './streams.js'
export {
  conditionPath,
  engineTrigger,
  MotiaConfigError,
  normalizeInput,
  triggerMetadata,
  triggerPath,
} from './triggers.js'
export type {
  ApiHandler,
  ApiRequest,
  ApiResponse,
  ApiTrigger,
  AuthenticateStream,
  Condition,
  CronTrigger,
  Emit,
  EmitDeclaration,
  EventTrigger,
  FlowContext,
  FlowLogger,
  JsonSchema,
  MatchHandlers,
  Middleware,
  MotiaStream,
  QueryParam,
  Schema,
  SetResult,
  StateManager,
  StateTrigger,
  StateTriggerInput,
  StepConfig,
  StepDefinition,
  StepHandler,
  StepSchemaInput,
  StreamAuthInput,
  StreamConfig,
  StreamEvent,
  StreamJoinResult,
  StreamSubscription,
  StreamTrigger,
  StreamTriggerInput,
  Trigger,
  TriggerCondition,
  TriggerInput,
  TriggerMetadata,
  TriggerType,
  TypedJsonSchema,
  UpdateOp,
} from './types.js'
export type {
  CronInput,
  EmitFn,
  EmitOptions,
  Handlers,
  InferSchema,
  StepInputs,
  Streams,
  Topics,
  TriggerToInput,
} from './typing.js'
