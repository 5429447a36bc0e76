/**
 * The bridge protocol's vocabulary as the engine's core and modules use it: the shared frame
 * types of `@iii-dev/protocol` and {@link RawJson}. Reading and writing frames is the
 * bridge's job (`bridge/frames.ts`); nothing here touches text on the wire.
 */
export {
  type Frame,
  type FrameType,
  type InvokeFunctionFrame,
  type JsonObject,
  type TriggerMeta,
  validateFrame,
  type WireError,
} from '@iii-dev/protocol'
export { RawJson } from './raw-json.js'
