/**
 * One connected worker as the core keeps it: what it registered and the calls running on it,
 * next to the {@link WorkerLink} that reaches it. Only core files change a record; the bridge
 * owns the connection behind the link and its socket-level state (liveness, bad frames).
 */
import type { WorkerLink } from './link.js'
import type { Policy } from './policy.js'

export interface WorkerInfo {
  name?: string
  runtime?: string
  version?: string
  os?: string
}

export class WorkerRecord {
  readonly connectedAt = Date.now()
  info: WorkerInfo = {}
  /** Function paths this worker serves. */
  readonly functions = new Set<string>()
  /** Trigger ids this worker registered. */
  readonly triggers = new Set<string>()
  /** Trigger types this worker owns. */
  readonly triggerTypes = new Set<string>()
  /** Engine invocation ids running on this worker. */
  readonly running = new Set<string>()
  readonly services = new Map<string, Record<string, unknown>>()
  /**
   * Set while the worker has not answered a heartbeat ping in time (a stopped or stalled
   * process): new calls go to the function's other workers while any of them is answering.
   */
  late = false

  constructor(
    readonly id: string,
    readonly link: WorkerLink,
    /** What its identity may do; undefined when worker authentication is off. */
    readonly policy?: Policy,
  ) {}
}
