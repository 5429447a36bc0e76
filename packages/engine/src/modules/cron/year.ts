/**
 * The year field of the original engine's 7-field cron expressions
 * (`sec min hour dom mon dow year`). cron-parser reads the first six; this reads the seventh:
 * `*`, a year, a range `2026-2030`, a step `2026/2` or `*\/2`, or a comma list of those.
 */

/** Which years an expression's year field allows. */
export interface YearField {
  allows(year: number): boolean
  /** The first allowed year at or after `year`, or undefined when there is none. */
  nextFrom(year: number): number | undefined
}

const MIN = 1970
const MAX = 2199

/** Parses a year field; throws an `Error` with a sentence naming the problem. */
export function parseYearField(field: string): YearField {
  if (field === '*' || field === '?') return { allows: () => true, nextFrom: (y) => y }
  const ranges: Array<{ from: number; to: number; step: number }> = []
  for (const part of field.split(',')) {
    const m = /^(\*|\d{4})(?:-(\d{4}))?(?:\/(\d+))?$/.exec(part)
    if (!m) throw new Error(`the year field "${field}" is not a year, a range, a step or a list of them`)
    const from = m[1] === '*' ? MIN : Number(m[1])
    const to = m[2] !== undefined ? Number(m[2]) : m[1] === '*' || m[3] !== undefined ? MAX : from
    const step = m[3] !== undefined ? Number(m[3]) : 1
    if (from < MIN || to > MAX || from > to || step < 1) {
      throw new Error(`the year field "${field}" is out of range (${MIN}-${MAX})`)
    }
    ranges.push({ from, to, step })
  }
  const allows = (y: number) => ranges.some((r) => y >= r.from && y <= r.to && (y - r.from) % r.step === 0)
  return {
    allows,
    nextFrom: (year) => {
      for (let y = Math.max(year, MIN); y <= MAX; y++) if (allows(y)) return y
      return undefined
    },
  }
}
