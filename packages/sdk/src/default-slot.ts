/**
 * The default bridge, as `State`, `Stream`, the module-level hooks and the module-level `logger`
 * see it: a {@link DefaultTarget} in a slot. This module does not import the bridge: `bridge.ts`
 * fills the slot (the first bridge built) and provides the factory that makes one on first use,
 * so there is no import circle between the bridge and what it serves.
 */
import { getContext } from './context.js'
import { ErrorCode, IIIError } from './errors.js'
import { Logger } from './logger.js'
import type { Caller, Registrar } from './types.js'

/** What the default bridge is to the modules that use it. */
export interface DefaultTarget extends Caller, Registrar {
  /** Logs outside of handlers. */
  readonly logger: Logger
}

let current: DefaultTarget | undefined
let factory: (() => DefaultTarget) | undefined

/** Sets how a default bridge is made when one is needed and none exists (`bridge.ts` does). */
export function provideDefault(make: () => DefaultTarget): void {
  factory = make
}

/** The default bridge, or `undefined` when none was made yet. */
export function currentDefault(): DefaultTarget | undefined {
  return current
}

/** Makes `target` the default (or forgets the default with `undefined`). */
export function setCurrentDefault(target: DefaultTarget | undefined): void {
  current = target
}

/** The default bridge, made (and connecting) on first use. */
export function useDefault(): DefaultTarget {
  if (current !== undefined) return current
  if (factory === undefined) {
    throw new IIIError(ErrorCode.Internal, 'no bridge is available: import @iii-dev/sdk, not one of its files')
  }
  const made = factory()
  current ??= made
  return made
}

let fallbackLogger: Logger | undefined

function currentLogger(): Logger {
  const ctx = getContext()
  if (ctx !== undefined) return ctx.logger
  if (current !== undefined) return current.logger
  fallbackLogger ??= new Logger()
  return fallbackLogger
}

/**
 * Logs through the right logger for where it is called: inside a handler, that call's logger
 * (with its trace id and function path); elsewhere the default bridge's logger.
 */
export const logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'> = {
  debug: (message, data) => currentLogger().debug(message, data),
  info: (message, data) => currentLogger().info(message, data),
  warn: (message, data) => currentLogger().warn(message, data),
  error: (message, data) => currentLogger().error(message, data),
}
