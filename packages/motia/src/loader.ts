/**
 * Finding and importing a project's files. TypeScript is compiled on the fly by tsx's ESM
 * loader, registered once per process. Each (re)import of a project file gets a fresh
 * `?motia-v=N` query; a small resolve hook passes that query on to the project files it imports
 * (never to packages), so a reload picks up changed helpers too, while packages such as
 * `@iii-dev/sdk` and `zod` stay single instances shared by every version.
 */
import { readdirSync, statSync } from 'node:fs'
import { createRequire, register as registerHooks } from 'node:module'
import { join, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'

export const STEP_FILE = /\.step\.(ts|mts|js|mjs)$/
export const STREAM_FILE = /\.stream\.(ts|mts|js|mjs)$/
const SKIP_DIRS = new Set(['node_modules', '.git', '.motia', 'dist'])

/** Every step file and stream file under `root` (skipping node_modules, .git, .motia, dist), sorted. */
export function findProjectFiles(root: string): { steps: string[]; streams: string[] } {
  const steps: string[] = []
  const streams: string[] = []
  const walk = (dir: string) => {
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      return
    }
    for (const name of names.sort()) {
      const p = join(dir, name)
      let st: ReturnType<typeof statSync>
      try {
        st = statSync(p)
      } catch {
        continue
      }
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(name)) walk(p)
      } else if (STEP_FILE.test(name)) steps.push(p)
      else if (STREAM_FILE.test(name)) streams.push(p)
    }
  }
  walk(root)
  return { steps, streams }
}

/** True for files a reload cares about: project sources outside node_modules, .motia, dist. */
export function isProjectSource(root: string, file: string): boolean {
  const rel = relative(root, file)
  if (rel.startsWith('..') || rel.split(sep).some((part) => SKIP_DIRS.has(part))) return false
  return /\.(ts|mts|js|mjs|json)$/.test(file)
}

const HOOKS = `
let root = ''
export async function initialize(data) { root = data.root }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  const parent = context.parentURL
  if (!parent || !result.url.startsWith(root) || result.url.includes('/node_modules/')) return result
  const m = /[?&](motia-v=\\d+)/.exec(parent)
  if (!m || result.url.includes('motia-v=')) return result
  return { ...result, url: result.url + (result.url.includes('?') ? '&' : '?') + m[1] }
}
`

let registeredRoot: string | undefined
let version = 0

/** Registers tsx and the reload hook for `root` (once per process). */
export async function installLoader(root: string): Promise<void> {
  if (registeredRoot !== undefined) {
    if (registeredRoot !== root) throw new Error(`the loader is already set up for ${registeredRoot}`)
    return
  }
  const tsx = await import('tsx/esm/api')
  tsx.register()
  const rootUrl = pathToFileURL(root).href.replace(/\/?$/, '/')
  registerHooks(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { root: rootUrl } })
  registeredRoot = root
}

const requireCache = createRequire(import.meta.url).cache

/** Imports a fresh copy of a project file (and of the project files it imports). */
export async function importFresh(file: string): Promise<Record<string, unknown>> {
  // In a project without "type": "module", tsx compiles .ts files to CommonJS, which node
  // keeps in the require cache whatever the URL's query: drop the project's entries.
  if (registeredRoot !== undefined) {
    for (const key of Object.keys(requireCache)) if (isProjectSource(registeredRoot, key)) delete requireCache[key]
  }
  version++
  return (await import(`${pathToFileURL(file).href}?motia-v=${version}`)) as Record<string, unknown>
}
