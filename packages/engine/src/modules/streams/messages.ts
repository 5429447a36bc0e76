/**
 * The stream socket protocol (SPEC section 4), free of I/O: parsing what clients send and
 * encoding what the server pushes. `socket.ts` is the network edge.
 *
 * Client -> server: `{"type":"join"|"leave","data":{"subscriptionId","streamName","groupId","id?"}}`.
 * Server -> client: `{timestamp, streamName, groupId, id?, subscriptionId?, event:{type, data?}}`
 * where `event.type` is `sync`, `create`, `update`, `delete`, `event` (custom, `data` and
 * `event` are both `{type, data}`), `unauthorized`, or `error` (`data` is `{code, message}`).
 * Items in `data` carry their item id as `id`. `subscriptionId` is
 * set on the messages that answer one join (`sync`, `unauthorized`, `error`); pushes of changes
 * are shared by every subscriber and carry none.
 */
import { MAX_ID_LENGTH } from '../store/input.js'

export interface JoinData {
  subscriptionId: string
  streamName: string
  groupId: string
  /** Set to follow one item; absent to follow the whole group. */
  id?: string
}

export type ClientMessage = { type: 'join' | 'leave'; data: JoinData }

export type ServerEventType = 'sync' | 'create' | 'update' | 'delete' | 'event' | 'unauthorized' | 'error'

export interface ServerEvent {
  type: ServerEventType
  data?: unknown
  /** A custom event's `{type, data}` again, where the published `@motiadev` clients read it. */
  event?: unknown
}

/** An item as the socket sends it: an object gets its item id as `id`; anything else is sent as is. */
export function withId(value: unknown, id: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  return (value as { id?: unknown }).id === id ? value : { ...value, id }
}

let lastTimestamp = 0

/**
 * The `timestamp` of a server message: the clock in ms, made strictly increasing. The
 * published clients drop an item message whose timestamp is not newer than the last one they
 * applied, so two changes within one millisecond must not share one.
 */
export function nextTimestamp(): number {
  const now = Date.now()
  lastTimestamp = now > lastTimestamp ? now : lastTimestamp + 1
  return lastTimestamp
}

/** A client frame, checked; or the sentence that says why it was refused. */
export function parseClientMessage(text: string): ClientMessage | { error: string } {
  let msg: unknown
  try {
    msg = JSON.parse(text)
  } catch {
    return { error: 'the frame is not valid JSON' }
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return { error: 'the frame must be a JSON object' }
  const { type, data } = msg as { type?: unknown; data?: unknown }
  if (type !== 'join' && type !== 'leave')
    return { error: `unknown message type ${JSON.stringify(type)} (join or leave)` }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return { error: `${type}: data must be an object` }
  const d = data as Record<string, unknown>
  for (const field of ['subscriptionId', 'streamName', 'groupId'] as const) {
    const problem = checkId(d[field])
    if (problem) return { error: `${type}: data.${field} ${problem}` }
  }
  if (d.id !== undefined && d.id !== null) {
    const problem = checkId(d.id)
    if (problem) return { error: `${type}: data.id ${problem}` }
  }
  const out: JoinData = {
    subscriptionId: d.subscriptionId as string,
    streamName: d.streamName as string,
    groupId: d.groupId as string,
  }
  if (typeof d.id === 'string') out.id = d.id
  return { type, data: out }
}

function checkId(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'must be a string'
  if (v.length === 0) return 'must not be empty'
  if (v.length > MAX_ID_LENGTH) return `is longer than ${MAX_ID_LENGTH} characters`
  return undefined
}

/** The text of one server message. Built once per change and sent as is to every subscriber. */
export function encodeServerMessage(
  timestamp: number,
  streamName: string,
  groupId: string,
  id: string | undefined,
  event: ServerEvent,
  subscriptionId?: string,
): string {
  const msg: Record<string, unknown> = { timestamp, streamName, groupId }
  if (id !== undefined) msg.id = id
  if (subscriptionId !== undefined) msg.subscriptionId = subscriptionId
  msg.event = event
  return JSON.stringify(msg)
}
