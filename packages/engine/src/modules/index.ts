/** The module list: which parts of the engine run, in start order (stopped in reverse). */
import type { EngineOptions } from '../config.js'
import type { SharedRedis } from '../redis/shared.js'
import { ApiModule } from './api/module.js'
import { CronModule } from './cron/module.js'
import { EventModule } from './event/module.js'
import { LoggerModule } from './logger/module.js'
import type { EngineModule } from './module.js'
import { ObservabilityModule } from './observability/module.js'
import { StateModule } from './state/module.js'
import { StreamsModule } from './streams/module.js'

/**
 * The optional modules the options switch on. The core and the bridge are always there. With
 * `shared` (the engine is one of a cluster on Redis) it comes first and the modules use it.
 */
export function createModules(options: EngineOptions, shared: SharedRedis | null = null): EngineModule[] {
  const observability = new ObservabilityModule(options.tracing)
  const modules: EngineModule[] = shared
    ? [shared, observability, new LoggerModule()]
    : [observability, new LoggerModule()]
  if (options.modules.event) modules.push(new EventModule(options.modules.event, shared))
  if (options.modules.cron) modules.push(new CronModule(shared))
  if (options.modules.state) modules.push(new StateModule(options.modules.state, shared))
  if (options.modules.streams) modules.push(new StreamsModule(options.modules.streams, shared))
  if (options.modules.api) modules.push(new ApiModule(options.modules.api))
  return modules
}
