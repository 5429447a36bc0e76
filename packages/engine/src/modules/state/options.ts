/** The `state` module's options (`modules.state` in the config): its storage adapter. */
import { type StoreOptions, storeOptions } from '../store/options.js'

export const stateOptions = storeOptions
export type StateOptions = StoreOptions
