/**
 * The fenced code blocks of the documentation, with the `doc-test` directives written in HTML
 * comments right before them (see docs/contributing.md):
 *
 *   <!-- doc-test: skip (why this block is not run) -->
 *   <!-- doc-test: expect POST /users {"name":"Ada"} -> 201 -->   (an HTTP check, repeatable)
 *   <!-- doc-test: with npm start -->                            (a command to run first)
 *   <!-- doc-test: env ORDERS_TOKEN=s3cret -->                   (an environment variable for it)
 *
 * Markdown is read with `marked`'s lexer, so blocks inside lists and quotes are found too.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { lexer, type Token, type Tokens } from 'marked'

/** The documents whose blocks are tested, relative to the repository root. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`)
  return ['README.md', ...docs, 'python/README.md', 'python/iii/README.md', 'python/motia/README.md']
}

export interface Expect {
  method: string
  path: string
  body?: unknown
  status: number
}

export interface Block {
  /** `README.md#3`: the file and the block's position in it (1-based). */
  id: string
  file: string
  lang: string
  text: string
  skip: string | null
  with: string | null
  /** Environment variables the block runs with (`env NAME=value` directives). */
  env: Record<string, string>
  expects: Expect[]
}

const directive = /^\s*doc-test:\s*(.*?)\s*$/
const expectRe = /^expect\s+([A-Z]+)\s+(\/\S*)\s*(.*?)\s*->\s*(\d{3})$/

/** Parses the directives of one HTML comment token; throws on a malformed one. */
function parseDirectives(html: string, where: string, into: Omit<Block, 'id' | 'file' | 'lang' | 'text'>): boolean {
  let found = false
  for (const m of html.matchAll(/<!--([\s\S]*?)-->/g)) {
    const d = directive.exec(m[1])
    if (d === null) continue
    found = true
    const body = d[1]
    const skip = /^skip\s*\((.+)\)$/.exec(body)
    const exp = expectRe.exec(body)
    const env = /^env\s+([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/.exec(body)
    if (skip !== null) into.skip = skip[1]
    else if (body.startsWith('with ')) into.with = body.slice(5).trim()
    else if (env !== null) into.env[env[1]] = env[2]
    else if (exp !== null) {
      into.expects.push({
        method: exp[1],
        path: exp[2],
        body: exp[3] === '' ? undefined : JSON.parse(exp[3]),
        status: Number(exp[4]),
      })
    } else throw new Error(`${where}: malformed doc-test directive "${body}" (see docs/contributing.md)`)
  }
  return found
}

/** Every fenced block of `file`, with its directives. */
export function blocksOf(root: string, file: string): Block[] {
  const tokens = lexer(readFileSync(join(root, file), 'utf8'))
  const blocks: Block[] = []
  let pending: Omit<Block, 'id' | 'file' | 'lang' | 'text'> = { skip: null, with: null, env: {}, expects: [] }
  const walk = (list: Token[]) => {
    for (const tok of list) {
      if (tok.type === 'space') continue
      if (tok.type === 'html' && parseDirectives(tok.raw, file, pending)) continue
      if (tok.type === 'code' && (tok as Tokens.Code).codeBlockStyle !== 'indented') {
        const code = tok as Tokens.Code
        const n = blocks.length + 1
        blocks.push({ id: `${file}#${n}`, file, lang: (code.lang ?? '').split(/\s/)[0], text: code.text, ...pending })
      } else if (tok.type === 'code') {
        blocks.push({ id: `${file}#${blocks.length + 1}`, file, lang: '', text: (tok as Tokens.Code).text, ...pending })
      }
      pending = { skip: null, with: null, env: {}, expects: [] }
      const children = (tok as { tokens?: Token[]; items?: Token[] }).items ?? (tok as { tokens?: Token[] }).tokens
      if (children !== undefined) walk(children)
    }
  }
  walk(tokens)
  return blocks
}
