/**
 * Project-level settings: `motia.config.ts` (its `authenticateStream`) and the app's name,
 * which Motia registers with every step so that two apps sharing a step name are caught.
 */
import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { importFresh, installLoader } from './loader.js'
import { MotiaConfigError } from './triggers.js'
import type { AuthenticateStream } from './types.js'

const CONFIG_NAMES = ['motia.config.ts', 'motia.config.mts', 'motia.config.js', 'motia.config.mjs']

/** What `motia.config.ts` may export. */
export interface ProjectConfig {
  /** The stream socket's auth (see docs/motia.md, "Stream auth"). */
  authenticateStream?: AuthenticateStream
  /** The file it came from, when there is one. */
  file?: string
}

/** The project's `motia.config.*` file, if any. */
export function findProjectConfig(root: string): string | undefined {
  return CONFIG_NAMES.map((n) => join(root, n)).find((p) => existsSync(p))
}

/** Imports `motia.config.*` (when there is one). @throws MotiaConfigError naming a bad export */
export async function loadProjectConfig(root: string): Promise<ProjectConfig> {
  const file = findProjectConfig(root)
  if (file === undefined) return {}
  await installLoader(root)
  const mod = await importFresh(file)
  const def = (mod.default ?? {}) as Record<string, unknown>
  const auth = mod.authenticateStream ?? def.authenticateStream
  if (auth !== undefined && typeof auth !== 'function') {
    throw new MotiaConfigError(`${basename(file)}: authenticateStream must be a function`)
  }
  return { file, authenticateStream: auth as AuthenticateStream | undefined }
}

/** The app's name: its package.json `name`, else the directory's name. */
export function appName(root: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: unknown }
    if (typeof pkg.name === 'string' && pkg.name.length > 0) return pkg.name
  } catch {
    // no package.json, or not JSON: the directory names the app
  }
  return basename(root)
}
