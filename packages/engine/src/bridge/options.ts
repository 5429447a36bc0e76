/**
 * The schemas of `bridge.limits` (per-connection limits) and `bridge.auth` (worker
 * authentication, see docs/security.md). `config.ts` validates them with the rest of `bridge` at
 * start-up; unknown keys stop the engine with one sentence naming the key.
 */
import { z } from 'zod'
import { FULL_RIGHTS } from '../core/policy.js'

const positive = z.number().int().positive()
const globs = z.array(z.string().min(1))

/** What an identity may do; every field defaults to full rights except `share` (nothing). */
export const policyOptions = z
  .object({
    register: globs.default(FULL_RIGHTS.register),
    invoke: globs.default(FULL_RIGHTS.invoke),
    use_trigger_types: globs.default(FULL_RIGHTS.use_trigger_types),
    own_trigger_types: globs.default(FULL_RIGHTS.own_trigger_types),
    share: globs.default([]),
    namespace: z.string().min(1).optional(),
  })
  .strict()

/** A static token: its SHA-256 digest (hex), or the environment variable holding it. */
const tokenSource = z.union([
  z.object({ sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be 64 hex digits') }).strict(),
  z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env must be a variable name') }).strict(),
])

const identityOptions = policyOptions.extend({ tokens: z.array(tokenSource).default([]) }).strict()

export const authOptions = z
  .object({
    /** Identities by name: their tokens and policy. */
    identities: z.record(z.string().min(1), identityOptions).default({}),
    /**
     * An auth function: `path` is called with `{headers, query_params, addr}` for an upgrade
     * no static token matched. Only workers of `identity` may register `path`.
     */
    function: z
      .object({ path: z.string().min(1), identity: z.string().min(1) })
      .strict()
      .optional(),
  })
  .strict()

export const limitsOptions = z
  .object({
    /** Calls one worker may have waiting for an answer; more get `too_many_requests`. */
    max_in_flight: positive.default(1024),
    /** Functions + triggers + trigger types + conditions one worker may register. */
    max_registrations: positive.default(10_000),
    /**
     * Frames one connection may send per second (0: no limit); past it the engine stops
     * reading that socket until the next 100 ms slice, so one flood cannot starve the others.
     */
    max_frames_per_second: z.number().int().min(0).default(100_000),
  })
  .strict()

export type AuthOptionsInput = z.infer<typeof authOptions>
export type PolicyOptionsInput = z.infer<typeof policyOptions>
