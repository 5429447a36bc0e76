/** The error catalogue, shared with the SDK: see `@iii-dev/protocol`. */
export { ErrorCode, IIIError, isWireError, toWireError, type WireError } from '@iii-dev/protocol'
