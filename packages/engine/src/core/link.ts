/**
 * The seam between the engine core and the wire: {@link WorkerLink} is everything the core
 * asks of one connected worker. The core hands it values (ids, paths, payloads, records) and
 * never text; encoding them as frames is the link's job (`bridge/connection.ts` is the one
 * implementation, over a WebSocket).
 */
import type { JsonObject, TriggerMeta, WireError } from '../protocol.js'

/** What travels with a call besides its data. `InvokeOptions` is one, so the core passes those as they are. */
export interface CallMeta {
  /** Set when a trigger caused the call. */
  trigger?: TriggerMeta
  /** W3C trace context, forwarded untouched. */
  traceparent?: string
  baggage?: string
}

/** A trigger of a worker-owned type, as forwarded to the worker that owns the type. */
export interface ForwardedTrigger {
  id: string
  trigger_type: string
  function_path: string
  config: JsonObject
}

/**
 * One connected worker, as the engine core uses it.
 *
 * Contract (what the core relies on; `bridge/connection.ts` implements it over a WebSocket):
 * - every method returns at once and never throws; delivery is in call order, and what is
 *   handed over after the worker went away is dropped silently (the core learns of the loss
 *   through `Engine.removeWorker`, which fails the calls still running there);
 * - values cross as they are: `data` may be a `RawJson` (JSON text forwarded without
 *   being parsed again), anything else is plain JSON; the link must not keep or change them;
 * - the worker's answers do not come back through the link: the bridge decodes them and hands
 *   them to the core (`Engine.settle`, `TriggerRegistry.registrationResult`, ...);
 * - a link is cheap on the call path: `invoke` is one method call per call, with no allocation
 *   beyond the frame it writes.
 */
export interface WorkerLink {
  /** The worker's IP address as the socket sees it, when there is a socket. */
  readonly address?: string
  /**
   * Set on a link to another engine of the cluster (`cluster/peer-link.ts`), which stands for
   * all of that engine's workers: calls relayed from another engine never go to one, and the
   * function and worker lists count what it stands for instead of the link itself.
   */
  readonly remote?: PeerView
  /**
   * Asks the worker to run `functionPath`. `invocationId` is the engine's id for the call; the
   * worker's `invocationresult` carries it back to `Engine.settle`. Returns the call's number
   * on this link (1, 2, ...) when the link counts written calls ({@link writtenCalls}), else 0.
   */
  invoke(invocationId: string, functionPath: string, data: unknown, meta: CallMeta): number
  /**
   * How many of the calls numbered by {@link invoke} were handed to the operating system
   * whole, in order. A call with a higher number never left the engine, so no handler can have
   * seen it: when the link goes away the core retries it on another worker.
   */
  writtenCalls?(): number
  /** Hands the worker a trigger of a type it owns; it answers with `triggerregistrationresult`. */
  registerTrigger(trigger: ForwardedTrigger): void
  /** Tells the owner of a trigger type that one of its triggers went away. */
  unregisterTrigger(id: string, triggerType: string): void
  /**
   * Reports a problem with something the worker registered or sent (a refused trigger, a bad
   * frame). `ref` names it: a trigger id, a frame type or an id from the frame.
   */
  reportError(error: WireError, ref?: string): void
}

/** What a link to another engine tells the core about the workers behind it. */
export interface PeerView {
  /** How many of that engine's workers serve `functionPath`. */
  workersOf(functionPath: string): number
}

/** The cluster-wide lists the core merges into its own (`engine.workers.list`, ...). */
export interface ClusterLists {
  workers(): Array<Record<string, unknown>>
  triggers(): Array<{ id: string; trigger_type: string; function_path: string; config: JsonObject }>
}
