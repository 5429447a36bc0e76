/**
 * The schemas of `bridge.limits` (per-connection limits) and `bridge.auth` (worker
 * authentication, see docs/security.md). `config.ts` validates them with the rest of `bridge` at
 * start-up; unknown keys stop the engine with one sentence naming the key.
 */

import * as z from 'zod/mini'
import { FULL_RIGHTS } from '../core/policy.js'
import { int, positive, str } from '../schema.js'

const globs = z.array(str(z.minLength(1)))
const name = () => str(z.minLength(1))

/** What an identity may do; every field defaults to full rights except `share` (nothing). */
const policyShape = {
  register: z._default(globs, FULL_RIGHTS.register),
  invoke: z._default(globs, FULL_RIGHTS.invoke),
  use_trigger_types: z._default(globs, FULL_RIGHTS.use_trigger_types),
  own_trigger_types: z._default(globs, FULL_RIGHTS.own_trigger_types),
  share: z._default(globs, []),
  namespace: z.optional(name()),
}
export const policyOptions = z.strictObject(policyShape)

/** A static token: its SHA-256 digest (hex), or the environment variable holding it. */
const tokenSource = z.union([
  z.strictObject({ sha256: str(z.regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be 64 hex digits')) }),
  z.strictObject({ env: str(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env must be a variable name')) }),
])

const identityOptions = z.strictObject({ ...policyShape, tokens: z._default(z.array(tokenSource), []) })

export const authOptions = z.strictObject({
  /** Identities by name: their tokens and policy. */
  identities: z._default(z.record(name(), identityOptions), {}),
  /**
   * An auth function: `path` is called with `{headers, query_params, addr}` for an upgrade
   * no static token matched. Only workers of `identity` may register `path`.
   */
  function: z.optional(z.strictObject({ path: name(), identity: name() })),
})

export const limitsOptions = z.strictObject({
  /** Calls one worker may have waiting for an answer; more get `too_many_requests`. */
  max_in_flight: z._default(positive(), 1024),
  /** Functions + triggers + trigger types + conditions one worker may register. */
  max_registrations: z._default(positive(), 10_000),
  /**
   * Frames one connection may send per second (0: no limit); past it the engine stops
   * reading that socket until the next 100 ms slice, so one flood cannot starve the others.
   */
  max_frames_per_second: z._default(int(z.gte(0)), 100_000),
})

export type AuthOptionsInput = z.infer<typeof authOptions>
export type PolicyOptionsInput = z.infer<typeof policyOptions>
