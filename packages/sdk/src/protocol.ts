/**
 * The bridge protocol as the SDK speaks it: frame types, decoding with validation and encoding
 * come from `@iii-dev/protocol`, shared with the engine. No sockets here; `bridge.ts` is the
 * I/O edge.
 */
export * from '@iii-dev/protocol'
