/** The iii engine as a library: build one from options, start it, stop it. */
import { BridgeModule } from './bridge/module.js'
import { ClusterModule } from './cluster/module.js'
import type { EngineOptions } from './config.js'
import { Engine } from './core/engine.js'
import type { Logger } from './log.js'
import { CoreModule } from './modules/core/module.js'
import { createModules } from './modules/index.js'
import { MetricsModule } from './modules/observability/metrics.js'
import { SharedRedis } from './redis/shared.js'

export { ConfigError, type EngineOptions, loadOptions, resolveConfig } from './config.js'
export { Engine } from './core/engine.js'
export type { CallMeta, ForwardedTrigger, WorkerLink } from './core/link.js'
export { ErrorCode, IIIError, type WireError } from './errors.js'
export type { EngineApi, EngineModule, TriggerRecord, TriggerTypeHandler } from './modules/module.js'
export * from './protocol.js'

/**
 * An engine with the core, the configured modules and the bridge. The bridge starts after
 * the modules (workers find every trigger type there) and before the HTTP server, which in
 * turn stops first.
 */
export function createEngine(options: EngineOptions, log?: Logger): Engine {
  const engine = new Engine(options, log)
  const shared = options.redis ? new SharedRedis(options.redis, engine.log) : null
  const modules = createModules(options, shared)
  const front = modules.filter((m) => m.name === 'api')
  // Durable events on Redis are one queue for the cluster: event triggers are not mirrored.
  const ev = options.modules.event
  const sharedEvents = ev?.durable === true && ev.adapter === 'redis'
  const cluster = shared ? [new ClusterModule(engine, shared, options.cluster, !sharedEvents)] : []
  engine.use(
    new CoreModule(engine),
    ...modules.filter((m) => m.name !== 'api'),
    ...cluster,
    ...(options.metrics ? [new MetricsModule(engine, options.metrics, modules)] : []),
    new BridgeModule(engine),
    ...front,
  )
  return engine
}
