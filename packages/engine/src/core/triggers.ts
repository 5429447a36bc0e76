/**
 * Trigger types and triggers. A built-in type is handled by a module; a worker-owned type by
 * its worker, to which the engine forwards `registertrigger` and `unregistertrigger`. A
 * trigger whose type is not there yet waits and is activated when the type appears.
 */
import { ErrorCode, IIIError, toWireError } from '../errors.js'
import type { Logger } from '../log.js'
import type { TriggerRecord, TriggerTypeHandler } from '../modules/module.js'
import type { JsonObject, WireError } from '../protocol.js'
import type { WorkerRecord } from './worker.js'

interface TriggerTypeEntry {
  id: string
  description?: string
  handler?: TriggerTypeHandler
  owner?: WorkerRecord
}

interface TriggerEntry {
  record: TriggerRecord
  /** pending: its type is not there yet; active: its type took it; forwarded: sent to the owning worker. */
  status: 'pending' | 'active' | 'forwarded'
}

export class TriggerRegistry {
  private readonly triggers = new Map<string, TriggerEntry>()
  private readonly types = new Map<string, TriggerTypeEntry>()

  constructor(
    private readonly workers: Map<string, WorkerRecord>,
    private readonly log: Logger,
  ) {}

  registerBuiltinType(id: string, handler: TriggerTypeHandler, description?: string): void {
    if (this.types.has(id)) throw new Error(`trigger type ${id} is registered twice`)
    this.types.set(id, { id, description, handler })
    void this.activatePending(id)
  }

  addWorkerType(worker: WorkerRecord, id: string, description?: string): void {
    const existing = this.types.get(id)
    if (existing !== undefined && existing.owner !== worker) {
      throw new IIIError(
        ErrorCode.TriggerTypeConflict,
        existing.handler
          ? `trigger type ${id} is built in`
          : `trigger type ${id} is owned by worker ${existing.owner?.id}`,
      )
    }
    this.types.set(id, { id, description, owner: worker })
    worker.triggerTypes.add(id)
    void this.activatePending(id)
  }

  removeWorkerType(worker: WorkerRecord, id: string): void {
    const entry = this.types.get(id)
    worker.triggerTypes.delete(id)
    if (entry?.owner !== worker) return
    this.types.delete(id)
    for (const t of this.triggers.values()) if (t.record.trigger_type === id) t.status = 'pending'
  }

  typesList(): Array<{ id: string; description?: string; builtin: boolean }> {
    return [...this.types.values()].map((t) => ({
      id: t.id,
      ...(t.description !== undefined && { description: t.description }),
      builtin: t.handler !== undefined,
    }))
  }

  private async activatePending(type: string): Promise<void> {
    for (const entry of [...this.triggers.values()]) {
      if (entry.status !== 'pending' || entry.record.trigger_type !== type) continue
      try {
        await this.activate(entry)
      } catch (err) {
        this.dropTrigger(entry)
        this.reportTriggerError(entry.record, toWireError(err))
      }
    }
  }

  /** Registers a trigger; rejects with an `IIIError` if its type refuses it. */
  async register(record: TriggerRecord): Promise<void> {
    const existing = this.triggers.get(record.id)
    if (existing !== undefined) {
      if (existing.record.owner !== record.owner) {
        throw new IIIError(ErrorCode.TriggerConflict, `trigger id ${record.id} is taken by another worker`)
      }
      await this.unregister(record.id)
    }
    const entry: TriggerEntry = { record, status: 'pending' }
    this.triggers.set(record.id, entry)
    if (record.owner !== null) this.workers.get(record.owner)?.triggers.add(record.id)
    if (!this.types.has(record.trigger_type)) {
      this.log.warn(`trigger ${record.id} waits for trigger type ${record.trigger_type}`)
      return
    }
    try {
      await this.activate(entry)
    } catch (err) {
      this.dropTrigger(entry)
      throw err
    }
  }

  private async activate(entry: TriggerEntry): Promise<void> {
    const type = this.types.get(entry.record.trigger_type)
    if (type === undefined) return
    if (type.handler !== undefined) {
      entry.status = 'active'
      await type.handler.register(entry.record)
    } else if (type.owner !== undefined) {
      entry.status = 'forwarded'
      type.owner.link.registerTrigger(entry.record)
    }
  }

  async unregister(id: string): Promise<void> {
    const entry = this.triggers.get(id)
    if (entry === undefined) return
    this.dropTrigger(entry)
    const type = this.types.get(entry.record.trigger_type)
    if (entry.status === 'active' && type?.handler !== undefined) {
      try {
        await type.handler.unregister(entry.record)
      } catch (err) {
        this.log.error(`trigger type ${type.id} failed to unregister ${id}`, { error: String(err) })
      }
    } else if (entry.status === 'forwarded' && type?.owner !== undefined) {
      type.owner.link.unregisterTrigger(id, entry.record.trigger_type)
    }
  }

  owner(id: string): string | null | undefined {
    return this.triggers.get(id)?.record.owner
  }

  private dropTrigger(entry: TriggerEntry): void {
    this.triggers.delete(entry.record.id)
    if (entry.record.owner !== null) this.workers.get(entry.record.owner)?.triggers.delete(entry.record.id)
  }

  /** The owner of a worker trigger type accepted or refused a forwarded trigger. */
  registrationResult(worker: WorkerRecord, id: string, error: { code: string; message: string } | undefined): void {
    const entry = this.triggers.get(id)
    if (entry === undefined || this.types.get(entry.record.trigger_type)?.owner !== worker) return
    if (error === undefined) return
    this.dropTrigger(entry)
    this.reportTriggerError(entry.record, {
      code: ErrorCode.TriggerRejected,
      message: `trigger ${id} was refused by the owner of ${entry.record.trigger_type}: ${error.message}`,
    })
  }

  private reportTriggerError(record: TriggerRecord, error: WireError): void {
    const owner = record.owner === null ? undefined : this.workers.get(record.owner)
    if (owner !== undefined) owner.link.reportError(error, record.id)
    else this.log.warn(error.message)
  }

  *ofType(type: string): Iterable<TriggerRecord> {
    for (const t of this.triggers.values()) if (t.record.trigger_type === type && t.status === 'active') yield t.record
  }

  list(): Array<{ id: string; trigger_type: string; function_path: string; config: JsonObject }> {
    return [...this.triggers.values()].map(({ record: r }) => ({
      id: r.id,
      trigger_type: r.trigger_type,
      function_path: r.function_path,
      config: r.config,
    }))
  }
}
