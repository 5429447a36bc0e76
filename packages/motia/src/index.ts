/**
 * motia: steps on the iii engine. A step is a `*.step.ts` file exporting a `config` (name,
 * triggers, emits, flows) and a `handler`; `motia dev` loads every step of a project and
 * registers trigger `i` of step `Name` as the function `steps.Name:trigger:i`.
 */

export { logger, State, Stream } from '@iii-dev/sdk'
export { composeMiddleware, validateRequest } from './api.js'
export { MotiaApp, type MotiaAppOptions } from './app.js'
export { createFlowContext } from './context.js'
export { reachable, type SpawnedEngine, spawnEngine } from './engine.js'
export { type StepHandle, StepRegistry } from './registry.js'
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
  Condition,
  CronTrigger,
  Emit,
  EventTrigger,
  FlowContext,
  FlowLogger,
  Middleware,
  Schema,
  StateManager,
  StateTrigger,
  StepConfig,
  StepDefinition,
  StepHandler,
  StreamConfig,
  StreamTrigger,
  Trigger,
  TriggerInput,
  TriggerMetadata,
  TriggerType,
} from './types.js'
