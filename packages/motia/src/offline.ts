/**
 * Loading a project without an engine, for `motia openapi` and `motia generate-types`: every
 * step and stream file is imported and checked as `motia dev` would, nothing is registered.
 */
import { relative } from 'node:path'
import { findProjectFiles, importFresh, installLoader } from './loader.js'
import { checkStepConfig, MotiaConfigError } from './triggers.js'
import type { StepConfig, StepDefinition, StepHandler, StreamConfig } from './types.js'

export interface OfflineProject {
  steps: StepDefinition[]
  streams: StreamConfig[]
  /** One message per file that could not be loaded (the file and why). */
  errors: string[]
}

/** Imports and checks every step and stream of `root`. */
export async function loadOffline(root: string): Promise<OfflineProject> {
  await installLoader(root)
  const files = findProjectFiles(root)
  const out: OfflineProject = { steps: [], streams: [], errors: [] }
  const names = new Map<string, string>()
  for (const file of files.streams) {
    const rel = relative(root, file)
    try {
      const mod = await importFresh(file)
      const config = (mod.config ?? (mod.default as { config?: unknown } | undefined)?.config) as StreamConfig
      if (typeof config?.name !== 'string' || config.name.length === 0) {
        throw new MotiaConfigError(`${rel}: does not export a \`config\` with a stream name`)
      }
      out.streams.push(config)
    } catch (err) {
      out.errors.push(err instanceof MotiaConfigError ? err.message : `${rel}: ${(err as Error)?.message ?? err}`)
    }
  }
  for (const file of files.steps) {
    const rel = relative(root, file)
    try {
      const mod = await importFresh(file)
      const def = (mod.default ?? {}) as { config?: unknown; handler?: unknown }
      const config = (mod.config ?? def.config) as StepConfig
      const handler = (mod.handler ?? def.handler) as StepHandler
      checkStepConfig(config, rel)
      const seen = names.get(config.name)
      if (seen !== undefined)
        throw new MotiaConfigError(`${rel}: step name "${config.name}" is already used by ${seen}`)
      names.set(config.name, rel)
      out.steps.push({ config, handler, file: rel })
    } catch (err) {
      out.errors.push(err instanceof MotiaConfigError ? err.message : `${rel}: ${(err as Error)?.message ?? err}`)
    }
  }
  return out
}
