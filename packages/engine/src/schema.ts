/**
 * What the engine's schemas share. They use zod's small functional build (`zod/mini`): the
 * full build is about 730 KB of the bundle and tens of milliseconds of every cold start; the
 * mini build validates the same way with the same messages, at a fraction of that. Importing
 * this module sets those messages to English (mini has none of its own). Each schema file
 * imports `* as z from 'zod/mini'` itself, so the bundler keeps only what is used.
 */
import { en } from 'zod/locales'
import * as z from 'zod/mini'

z.config(en())

/** An integer, with more checks (`z.gte(0)`, `z.positive()`, ...). */
export const int = (...checks: z.core.$ZodCheck<number>[]) => z.number().check(z.int(), ...checks)

/** A port number: 0 (pick a free one) to 65535. */
export const port = () => int(z.gte(0), z.lte(65535))

/** A whole number above 0. */
export const positive = () => int(z.positive())

/** A string with checks (`z.minLength(1)`, `z.regex(...)`, ...). */
export const str = (...checks: z.core.$ZodCheck<string>[]) => z.string().check(...checks)
