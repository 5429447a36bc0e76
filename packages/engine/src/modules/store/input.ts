/**
 * Checks on the input of the `state.*` and `streams.*` built-ins. Each throws
 * `IIIError('invalid_argument')` with one sentence that names the function and the field.
 */
import { IIIError } from '../../errors.js'
import type { JsonValue } from './types.js'

/** The longest id (group, item, stream name) accepted, in UTF-16 units. */
export const MAX_ID_LENGTH = 512

const bad = (message: string) => new IIIError('invalid_argument', message)

/** The input as an object, or an error saying what `fn` expects. */
export function inputObject(input: unknown, fn: string, shape: string): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw bad(`${fn} needs an object ${shape}`)
  }
  return input as Record<string, unknown>
}

/** A required id field: a non-empty string of at most {@link MAX_ID_LENGTH} characters. */
export function idField(input: Record<string, unknown>, field: string, fn: string): string {
  const v = input[field]
  if (v === undefined || v === null) throw bad(`${fn}: ${field} is required`)
  if (typeof v !== 'string') throw bad(`${fn}: ${field} must be a string, not ${kind(v)}`)
  if (v.length === 0) throw bad(`${fn}: ${field} must not be empty`)
  if (v.length > MAX_ID_LENGTH) throw bad(`${fn}: ${field} is longer than ${MAX_ID_LENGTH} characters`)
  return v
}

/** An optional id field: undefined when absent or null. */
export function optionalIdField(input: Record<string, unknown>, field: string, fn: string): string | undefined {
  return input[field] === undefined || input[field] === null ? undefined : idField(input, field, fn)
}

/** The required `data` of a set: any JSON value but null. */
export function dataField(input: Record<string, unknown>, fn: string): JsonValue {
  const v = input.data
  if (v === undefined) throw bad(`${fn}: data is required`)
  if (v === null) throw bad(`${fn}: data must not be null (delete the item instead)`)
  return v as JsonValue
}

export function kind(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`
}

/** Prefixes an op error from the store with the calling function's name. */
export function withFunctionName(err: unknown, fn: string): unknown {
  if (err instanceof IIIError && err.code === 'invalid_argument' && err.message.startsWith('update: ')) {
    return new IIIError(err.code, `${fn}: ${err.message.slice('update: '.length)}`, err.details)
  }
  return err
}
