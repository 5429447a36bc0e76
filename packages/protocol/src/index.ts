/** @iii-dev/protocol: the bridge protocol's frames and errors, shared by the engine and the Node SDK. */
export * from './errors.js'
export * from './frames.js'
