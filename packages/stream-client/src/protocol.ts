/**
 * The stream socket protocol as the client sees it (the engine's `docs/state-and-streams.md`
 * is the reference). No I/O here.
 */

/** What the client sends: join or leave one subscription. */
export interface JoinMessage {
  type: 'join' | 'leave'
  data: { subscriptionId: string; streamName: string; groupId: string; id?: string }
}

/** A custom event sent with `streams.send`. */
export interface CustomEvent<D = unknown> {
  type: string
  data: D
}

/** What the server sends. `subscriptionId` is set on answers to one join. */
export interface ServerMessage {
  timestamp: number
  streamName?: string
  groupId?: string
  id?: string
  subscriptionId?: string
  event:
    | { type: 'sync'; data: unknown }
    | { type: 'create' | 'update' | 'delete'; data: unknown }
    | { type: 'event'; data: CustomEvent }
    | { type: 'unauthorized'; data?: unknown }
    | { type: 'error'; data: { code: string; message: string } }
}

/** Parses one frame; null when it is not a server message. */
export function parseServerMessage(text: string): ServerMessage | null {
  let msg: unknown
  try {
    msg = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof msg !== 'object' || msg === null) return null
  const m = msg as ServerMessage
  if (typeof m.timestamp !== 'number' || typeof m.event !== 'object' || m.event === null) return null
  if (typeof m.event.type !== 'string') return null
  return m
}
