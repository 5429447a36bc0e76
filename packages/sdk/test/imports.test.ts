/**
 * No import circle under packages/sdk/src. The graph is read with the TypeScript compiler's own
 * import scanner (`ts.preProcessFile`: imports, `export ... from`, dynamic imports, type-only
 * imports too), so a circle made only of types counts as well.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, test } from 'node:test'
import { repoRoot } from '@iii-dev/testkit'
import ts from 'typescript'

/** The relative imports of every `.ts` file under `dir` (not recursive), as file names. */
function importGraph(dir: string): Map<string, string[]> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(dir, file), 'utf8'), true, true)
    const local = importedFiles
      .map((i) => i.fileName)
      .filter((name) => name.startsWith('./'))
      .map((name) => name.slice(2).replace(/\.js$/, '.ts'))
    for (const target of local) assert.ok(files.includes(target), `${file} imports ${target}, which is not in ${dir}`)
    graph.set(file, [...new Set(local)])
  }
  return graph
}

/** Every circle of the graph, each as the path that closes it (`a.ts -> b.ts -> a.ts`). */
function circles(graph: Map<string, string[]>): string[] {
  const found: string[] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (node: string) => {
    state.set(node, 'open')
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next].join(' -> '))
      else if (state.get(next) === undefined) visit(next)
    }
    stack.pop()
    state.set(node, 'done')
  }
  for (const node of [...graph.keys()].sort()) if (state.get(node) === undefined) visit(node)
  return found
}

describe('imports', () => {
  test('packages/sdk/src has no import circle', () => {
    const graph = importGraph(resolve(repoRoot, 'packages/sdk/src'))
    assert.ok(graph.size >= 10 && graph.has('bridge.ts'), 'the SDK sources were found')
    assert.deepEqual(circles(graph), [])
  })

  test('State, Stream and the hooks do not import the bridge', () => {
    const graph = importGraph(resolve(repoRoot, 'packages/sdk/src'))
    for (const file of ['state.ts', 'stream.ts', 'hooks.ts', 'default-slot.ts']) {
      assert.ok(!graph.get(file)?.includes('bridge.ts'), `${file} imports bridge.ts`)
    }
  })

  test('the check finds a circle, type-only ones too', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'iii-imports-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js'\nexport const a = b\n")
    writeFileSync(join(dir, 'b.ts'), "import type { C } from './c.js'\nexport const b: C = 1\n")
    writeFileSync(join(dir, 'c.ts'), "export type { A } from './a.js'\nexport type C = number\n")
    writeFileSync(join(dir, 'd.ts'), "import './a.js'\n")
    assert.deepEqual(circles(importGraph(dir)), ['a.ts -> b.ts -> c.ts -> a.ts'])
  })
})
