/**
 * The error catalogue in its three TypeScript-side forms agrees with protocol/errors.json (read
 * at test time): the `ErrorCode` list of packages/protocol/src/errors.ts has exactly its codes,
 * and the table of docs/errors.md has one row per code, in the file's order, with the same
 * HTTP status, retryability, raising side and explanation.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ErrorCode } from '../src/errors.ts'

interface Entry {
  code: string
  http_status: number | null
  retryable: boolean
  raised_by: string[]
  when: string
}

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')
const entries: Entry[] = JSON.parse(readFileSync(join(root, 'protocol/errors.json'), 'utf8')).errors

/** The table rows of docs/errors.md: `| \`code\` | HTTP | retryable | raised by | when |`. */
function docRows(): string[][] {
  const text = readFileSync(join(root, 'docs/errors.md'), 'utf8')
  return text
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    )
}

describe('error catalogue', () => {
  test('errors.json is well formed: unique snake_case codes, known sides', () => {
    const codes = entries.map((e) => e.code)
    assert.equal(new Set(codes).size, codes.length, 'no code twice')
    for (const e of entries) {
      assert.match(e.code, /^[a-z]+(_[a-z]+)*$/)
      assert.ok(e.http_status === null || (Number.isInteger(e.http_status) && e.http_status >= 400), e.code)
      assert.equal(typeof e.retryable, 'boolean', e.code)
      assert.ok(e.raised_by.length > 0 && e.raised_by.every((s) => s === 'engine' || s === 'sdk'), e.code)
      assert.ok(e.when.length > 0, e.code)
    }
  })

  test('packages/protocol/src/errors.ts lists exactly the codes of errors.json', () => {
    const ts = Object.values(ErrorCode)
    assert.equal(new Set(ts).size, ts.length, 'no code twice in ErrorCode')
    assert.deepEqual([...ts].sort(), entries.map((e) => e.code).sort())
  })

  test('the table of docs/errors.md is errors.json, row by row', () => {
    const expected = entries.map((e) => [
      `\`${e.code}\``,
      e.http_status === null ? '—' : String(e.http_status),
      e.retryable ? 'yes' : 'no',
      e.raised_by.join(', '),
      e.when,
    ])
    const table = expected.map((cells) => `| ${cells.join(' | ')} |`).join('\n')
    assert.deepEqual(docRows(), expected, `docs/errors.md should have these rows:\n${table}`)
  })
})
