/**
 * The engine's own functions (`engine.*`) and the `functions_available` trigger type, which
 * tells bound functions the current function list whenever it changes.
 */
import type { Engine } from '../../core/engine.js'
import type { WorkerInfo } from '../../core/worker.js'
import { ErrorCode, IIIError } from '../../errors.js'
import type { EngineModule, TriggerRecord } from '../module.js'

export class CoreModule implements EngineModule {
  readonly name = 'core'
  private readonly watchers = new Map<string, TriggerRecord>()

  constructor(private readonly engine: Engine) {}

  async start(): Promise<void> {
    const engine = this.engine
    engine.registerFunction('engine.functions.list', () => ({ functions: engine.functionsList() }), {
      description: 'Lists every registered function',
    })
    engine.registerFunction('engine.workers.list', () => ({ workers: engine.workersList() }), {
      description: 'Lists the connected workers',
    })
    engine.registerFunction('engine.triggers.list', () => ({ triggers: engine.triggers.list() }), {
      description: 'Lists every registered trigger',
    })
    engine.registerFunction('engine.trigger_types.list', () => ({ trigger_types: engine.triggers.typesList() }), {
      description: 'Lists the trigger types, built-in and worker-owned',
    })
    engine.registerFunction(
      'engine.workers.register',
      (data, ctx) => {
        const worker = ctx.workerId === undefined ? undefined : engine.workers.get(ctx.workerId)
        if (worker === undefined) {
          throw new IIIError(ErrorCode.InvalidArgument, 'engine.workers.register must be called by a worker')
        }
        if (typeof data !== 'object' || data === null) {
          throw new IIIError(
            ErrorCode.InvalidArgument,
            'engine.workers.register needs an object {runtime, version?, name?, os?}',
          )
        }
        const info: WorkerInfo = {}
        for (const key of ['runtime', 'version', 'name', 'os'] as const) {
          const value = data[key]
          if (value === undefined || value === null) continue
          if (typeof value !== 'string') {
            throw new IIIError(ErrorCode.InvalidArgument, `engine.workers.register: ${key} must be a string`)
          }
          info[key] = value
        }
        engine.setWorkerInfo(worker, info)
        return { success: true }
      },
      { description: "Records a worker's runtime, version, name and os" },
    )
    engine.registerTriggerType(
      'functions_available',
      {
        register: (t) => {
          this.watchers.set(t.id, t)
          this.notify([t])
        },
        unregister: (t) => {
          this.watchers.delete(t.id)
        },
      },
      'Invokes the function with {functions} whenever the set of functions changes',
    )
    engine.onFunctionsChanged(() => this.notify(this.watchers.values()))
  }

  private notify(targets: Iterable<TriggerRecord>): void {
    const data = { functions: this.engine.functionsList() }
    for (const t of targets) {
      this.engine
        .invoke(t.function_path, data, { trigger: { type: 'functions_available', id: t.id } })
        .catch((err) => this.engine.log.debug(`functions_available call to ${t.function_path} failed: ${err.message}`))
    }
  }

  async stop(): Promise<void> {
    this.watchers.clear()
  }
}
