/**
 * The error catalogue, shared with the engine (`@iii-dev/protocol`). Every failure the SDK
 * reports is an {@link IIIError} with a stable `code`: the engine's codes pass through
 * unchanged, and the SDK's own are `bridge_closed` (the bridge was closed while the operation
 * waited) and `queue_full` (too many frames queued while the socket is closed).
 */
export { ErrorCode, IIIError, isWireError, toWireError, type WireError } from '@iii-dev/protocol'
