/**
 * Making bridges, and the default bridge: the first bridge built in a process, or one made from
 * `III_BRIDGE_URL` (and connecting) the first time `State`, `Stream`, a module-level hook or the
 * module-level logger needs one. The slot itself lives in `default-slot.ts`, which imports no
 * bridge, so the modules that use the default never import `bridge.ts`.
 */
import { Bridge } from './bridge.js'
import { provideDefault, setCurrentDefault, useDefault } from './default-slot.js'
import type { BridgeOptions } from './options.js'

/** `createBridge({url?, ...options})`: the same as `new Bridge(options)`. */
export function createBridge(options: BridgeOptions = {}): Bridge {
  return new Bridge(options)
}

provideDefault(() => {
  const bridge = new Bridge() // the constructor makes it the default
  bridge.connect().catch(() => {})
  return bridge
})

/** The default bridge: the first one created, or a new one from `III_BRIDGE_URL` that connects. */
export function getDefaultBridge(): Bridge {
  return useDefault() as Bridge
}

/** Makes `bridge` the default (or forgets the default with `undefined`). */
export function setDefaultBridge(bridge: Bridge | undefined): void {
  setCurrentDefault(bridge)
}
