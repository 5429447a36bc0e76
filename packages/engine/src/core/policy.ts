/**
 * What one authenticated identity may do: which function paths it may register and invoke,
 * which trigger types it may bind triggers to or own, which of its paths it lets other
 * identities serve too, and a namespace every path it registers must start with. Built-ins
 * (`engine.*`, `state.*`, `streams.*`, `events.deadLetters.*`, `logger.log`, ...) are plain
 * paths here, covered by the same globs as any function.
 *
 * A worker without a policy (auth off) may do everything, and the core checks nothing: every
 * check is behind one `worker.policy !== undefined` branch. Denials are `forbidden`
 * {@link IIIError}s, each with one audit log line ({@link deny}).
 */
import { ErrorCode, IIIError } from '../errors.js'
import type { Logger } from '../log.js'

/** A policy as configured (`bridge.auth.identities.<name>`, or returned by the auth function). */
export interface PolicyRules {
  /** Globs of the function paths it may register. */
  register: string[]
  /** Globs of the function paths it may invoke (and bind triggers to). */
  invoke: string[]
  /** Globs of the trigger types it may register triggers of. */
  use_trigger_types: string[]
  /** Globs of the trigger types it may own (`registertriggertype`). */
  own_trigger_types: string[]
  /** Globs of its paths that another identity may serve too (both sides must allow it). */
  share: string[]
  /** When set, every function path it registers must start with this. */
  namespace?: string
}

/** Full rights: what `III_TOKEN` grants, and every field's default. */
export const FULL_RIGHTS: PolicyRules = {
  register: ['*'],
  invoke: ['*'],
  use_trigger_types: ['*'],
  own_trigger_types: ['*'],
  share: [],
}

/** Functions every worker may call whatever its policy: they only describe the caller itself. */
const ALWAYS_INVOKABLE = new Set(['engine.workers.register'])

/** Decisions cached per path; the cache is dropped when it grows past this. */
const CACHE_LIMIT = 10_000

/**
 * Compiles globs into one test: `*` matches any run of characters (dots included, so
 * `engine.*` covers `engine.workers.list`), `?` one character, everything else itself.
 */
export function compileGlobs(globs: readonly string[]): (value: string) => boolean {
  if (globs.length === 0) return () => false
  if (globs.includes('*')) return () => true
  const source = globs
    .map((g) =>
      g
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.'),
    )
    .join('|')
  const re = new RegExp(`^(?:${source})$`, 's')
  return (value) => re.test(value)
}

/** A compiled {@link PolicyRules} for one identity. */
export class Policy {
  private readonly registerTest: (v: string) => boolean
  private readonly invokeTest: (v: string) => boolean
  private readonly useTypeTest: (v: string) => boolean
  private readonly ownTypeTest: (v: string) => boolean
  private readonly shareTest: (v: string) => boolean
  private readonly invokeCache = new Map<string, boolean>()
  readonly namespace: string | undefined

  constructor(
    /** The identity's name, shown in audit lines and `engine.workers.list`. */
    readonly identity: string,
    readonly rules: PolicyRules,
  ) {
    this.registerTest = compileGlobs(rules.register)
    this.invokeTest = compileGlobs(rules.invoke)
    this.useTypeTest = compileGlobs(rules.use_trigger_types)
    this.ownTypeTest = compileGlobs(rules.own_trigger_types)
    this.shareTest = compileGlobs(rules.share)
    this.namespace = rules.namespace
  }

  /** May it call `path`? One map lookup once the path was seen. */
  mayInvoke(path: string): boolean {
    let allowed = this.invokeCache.get(path)
    if (allowed === undefined) {
      allowed = ALWAYS_INVOKABLE.has(path) || this.invokeTest(path)
      if (this.invokeCache.size >= CACHE_LIMIT) this.invokeCache.clear()
      this.invokeCache.set(path, allowed)
    }
    return allowed
  }

  /** Why it may not register `path`, or undefined when it may. */
  registerRefusal(path: string): string | undefined {
    if (this.namespace !== undefined && !path.startsWith(this.namespace)) {
      return `function paths of identity ${this.identity} must start with "${this.namespace}"`
    }
    if (!this.registerTest(path)) return `identity ${this.identity} may not register ${path}`
    return undefined
  }

  mayUseTriggerType(type: string): boolean {
    return this.useTypeTest(type)
  }

  mayOwnTriggerType(type: string): boolean {
    return this.ownTypeTest(type)
  }

  /** Does it let another identity serve `path` next to it? */
  mayShare(path: string): boolean {
    return this.shareTest(path)
  }
}

/** Control characters are escaped so a name cannot forge a log line. */
function quote(value: string): string {
  return JSON.stringify(value)
}

/**
 * Records a denial with one audit log line and returns the `forbidden` error to answer with.
 * `action` is what was tried (`invoke`, `register`, ...), `target` what it was tried on.
 */
export function deny(
  log: Logger,
  policy: Policy,
  workerId: string,
  action: string,
  target: string,
  message: string,
): IIIError {
  log.warn(`audit: forbidden ${action} ${quote(target)} by identity ${quote(policy.identity)} (worker ${workerId})`)
  return new IIIError(ErrorCode.Forbidden, message)
}
