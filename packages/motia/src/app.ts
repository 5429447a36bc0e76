/**
 * A running Motia project: one bridge (worker name `motia`), the project's streams, and its
 * steps; in watch mode a changed file is loaded again and replaces what it registered.
 *
 * A step is reported "loaded" only once the engine has taken all of it: a trigger the engine
 * refused (a bad cron, a taken route) unloads the step and is reported as an error, and a step
 * whose name another app already registered on the engine is refused before it is sent.
 */
import { createHash, randomUUID } from 'node:crypto'
import { existsSync, type FSWatcher, readFileSync, statSync, watch } from 'node:fs'
import { relative, resolve } from 'node:path'
import { type Bridge, type BridgeEvents, createBridge, type Registration } from '@iii-dev/sdk'
import { findProjectFiles, importFresh, installLoader, isProjectSource, STEP_FILE, STREAM_FILE } from './loader.js'
import { registerOpenApiRoute } from './openapi-route.js'
import { appName, loadProjectConfig, type ProjectConfig } from './project.js'
import type { AppIdentity } from './registration.js'
import { type StepHandle, StepRegistry } from './registry.js'
import { createProjectStream, registerStreamAuth, registerStreamHooks } from './streams.js'
import { MotiaConfigError } from './triggers.js'
import type { MotiaStream, StepConfig, StepDefinition, StepHandler, StreamConfig } from './types.js'

export interface MotiaAppOptions {
  /** The project directory; it must exist. */
  root: string
  /** Engine address; default `III_BRIDGE_URL`, else `ws://127.0.0.1:49134`. */
  url?: string
  /** Reload files when they change (`motia dev`). Default false. */
  watch?: boolean
  /** Refuse to start when a step or stream cannot be loaded (`motia start`). Default false. */
  strict?: boolean
  /** The app's name on the engine; default its package.json name, else the directory's name. */
  app?: string
  /** This process is one replica of `app`: others with the same name may register the same steps. */
  replica?: boolean
  /** Serve `GET /__motia/openapi.json` (`motia dev`). Default: the same as `watch`. */
  openapi?: boolean
  /** Where Motia's own messages go; default stdout. */
  log?: (line: string) => void
}

/** `metadata.motia` of a step function another process registered. */
interface ForeignStep {
  step: string
  app?: string
  root?: string
  pid?: number
  replica?: boolean
}

export class MotiaApp {
  readonly root: string
  readonly bridge: Bridge
  readonly identity: AppIdentity
  /** The declared streams by name (the object `ctx.streams` is). */
  readonly streams: Record<string, MotiaStream> = {}
  private readonly registry: StepRegistry
  private readonly steps = new Map<string, StepHandle>()
  private readonly streamFiles = new Map<string, string>()
  private readonly streamHooks = new Map<string, Registration[]>()
  private readonly hashes = new Map<string, string>()
  private readonly refused = new Map<string, string>()
  private pending: { file: string; handle: StepHandle; reloaded: boolean }[] = []
  private readonly log: (line: string) => void
  private watcher: FSWatcher | undefined
  private changed = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private reloading: Promise<void> = Promise.resolve()
  private stopped = false

  constructor(private readonly options: MotiaAppOptions) {
    this.root = resolve(options.root)
    if (!existsSync(this.root) || !statSync(this.root).isDirectory()) {
      throw new Error(`the project directory ${this.root} does not exist`)
    }
    this.log = options.log ?? ((line) => process.stdout.write(`[motia] ${line}\n`))
    this.bridge = createBridge({ url: options.url, workerName: 'motia' })
    this.identity = {
      app: options.app ?? appName(this.root),
      instance: randomUUID(),
      root: this.root,
      ...(options.replica && { replica: true }),
    }
    this.registry = new StepRegistry(this.bridge, this.streams, this.identity)
    this.bridge.on('engineerror', (frame: BridgeEvents['engineerror'][0]) => {
      if (frame.ref !== undefined) this.refused.set(frame.ref, `${frame.code}: ${frame.message}`)
    })
  }

  /** Loads every stream and step, connects, and (in watch mode) starts watching. */
  async start(): Promise<void> {
    await installLoader(this.root)
    const { steps, streams } = findProjectFiles(this.root)
    let failures = 0
    const project: ProjectConfig = await loadProjectConfig(this.root).catch((err) => {
      this.reportLoadError('motia.config', err)
      failures++
      return {}
    })
    for (const f of streams) if (!(await this.loadStream(f))) failures++
    const defs: { file: string; def: StepDefinition }[] = []
    for (const f of steps) {
      const def = await this.importStep(f)
      if (def === undefined) failures++
      else defs.push({ file: f, def })
    }
    await this.bridge.connect()
    const foreign = await this.foreignSteps()
    for (const { file, def } of defs) if (!this.registerStep(file, def, foreign)) failures++
    if (project.authenticateStream !== undefined) {
      registerStreamAuth(this.bridge, project.authenticateStream, this.streams)
    }
    if (this.options.openapi ?? this.options.watch) registerOpenApiRoute(this.bridge, this.root)
    await this.settled()
    const refused = this.reportRegistered()
    failures += refused
    // The engine has taken the refused steps back before this says ready.
    if (refused > 0) await this.settled()
    if (failures > 0 && this.options.strict) {
      await this.bridge.close()
      throw new Error(`${failures} file(s) could not be loaded`)
    }
    if (this.options.watch) this.startWatching()
    this.log(`ready: ${this.steps.size} step(s), ${Object.keys(this.streams).length} stream(s) on ${this.bridge.url}`)
  }

  /** Stops watching, takes every step back and closes the bridge. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.watcher?.close()
    clearTimeout(this.timer)
    await this.reloading.catch(() => {})
    await this.bridge.close()
  }

  /** Resolves once the engine has processed every frame sent so far (frames are handled in order). */
  private async settled(): Promise<void> {
    await this.bridge.invokeFunction('engine.functions.list', {})
  }

  /** Steps other Motia processes registered on the engine, by name. */
  private async foreignSteps(): Promise<Map<string, ForeignStep>> {
    const out = new Map<string, ForeignStep>()
    const list = await this.bridge.invokeFunction<{ functions: { metadata?: { motia?: Record<string, unknown> } }[] }>(
      'engine.functions.list',
      {},
    )
    for (const f of list?.functions ?? []) {
      const m = f.metadata?.motia
      if (typeof m?.step !== 'string' || m.instance === this.identity.instance) continue
      out.set(m.step, m as unknown as ForeignStep)
    }
    return out
  }

  private rel(file: string): string {
    return relative(this.root, file)
  }

  private fingerprint(file: string): string | undefined {
    try {
      return createHash('sha1').update(readFileSync(file)).digest('hex')
    } catch {
      return undefined
    }
  }

  private async importStep(file: string): Promise<StepDefinition | undefined> {
    try {
      const mod = await importFresh(file)
      const def = (mod.default ?? {}) as { config?: unknown; handler?: unknown }
      const config = (mod.config ?? def.config) as StepConfig
      const handler = (mod.handler ?? def.handler) as StepHandler
      return { config, handler, file: this.rel(file) }
    } catch (err) {
      this.reportLoadError(file, err)
      return undefined
    }
  }

  /** Registers a step unless another app owns its name; the engine's answer is checked later. */
  private registerStep(file: string, def: StepDefinition, foreign: Map<string, ForeignStep>): boolean {
    try {
      const other = typeof def.config?.name === 'string' ? foreign.get(def.config.name) : undefined
      if (other !== undefined && !(other.replica && this.identity.replica && other.app === this.identity.app)) {
        const me = this.identity
        throw new MotiaConfigError(
          `${this.rel(file)}: step "${def.config.name}" is already registered on the engine by app "${other.app ?? '?'}" ` +
            `(${other.root ?? 'unknown folder'}, pid ${other.pid ?? '?'}); this app is "${me.app}" (${me.root}, pid ${process.pid}). ` +
            "Two apps sharing a step name would answer each other's calls: rename the step, stop the other app, " +
            'or start both with --replica (and the same --app name) if they are replicas of one app',
        )
      }
      const old = this.steps.get(file)
      const handle = this.registry.register(def)
      if (old !== undefined && old.name !== handle.name) old.unregister()
      this.steps.set(file, handle)
      this.hashes.set(file, this.fingerprint(file) ?? '')
      this.pending.push({ file, handle, reloaded: old !== undefined })
      return true
    } catch (err) {
      this.reportLoadError(file, err)
      return false
    }
  }

  /** After `settled()`: reports each registered step as loaded, or unloads it when refused; answers how many were refused. */
  private reportRegistered(): number {
    let failures = 0
    for (const { file, handle, reloaded } of this.pending) {
      const why = handle.triggerIds
        .map((id, i) => this.refused.has(id) && `trigger ${i}: ${this.refused.get(id)}`)
        .concat(handle.functions.map((p) => this.refused.has(p) && `${p}: ${this.refused.get(p)}`))
        .filter(Boolean)
      if (why.length > 0) {
        failures++
        handle.unregister()
        if (this.steps.get(file) === handle) this.steps.delete(file)
        process.stderr.write(
          `[motia] error: step ${handle.name} (${this.rel(file)}) is not loaded: the engine refused ${why.join('; ')}\n`,
        )
        continue
      }
      this.log(
        `${reloaded ? 'reloaded' : 'loaded'} step ${handle.name} (${this.rel(file)}): ${handle.functions.join(', ')}`,
      )
    }
    this.pending = []
    this.refused.clear()
    return failures
  }

  private unloadStep(file: string): void {
    const handle = this.steps.get(file)
    if (handle === undefined) return
    handle.unregister()
    this.steps.delete(file)
    this.log(`removed step ${handle.name} (${this.rel(file)})`)
  }

  private async loadStream(file: string): Promise<boolean> {
    try {
      const mod = await importFresh(file)
      const config = (mod.config ?? (mod.default as { config?: unknown } | undefined)?.config) as StreamConfig
      if (typeof config?.name !== 'string' || config.name.length === 0) {
        throw new MotiaConfigError(`${this.rel(file)}: does not export a \`config\` with a stream name`)
      }
      for (const [f, name] of this.streamFiles) {
        if (f !== file && name === config.name) {
          throw new MotiaConfigError(`${this.rel(file)}: stream "${config.name}" is already declared in ${this.rel(f)}`)
        }
      }
      let stream: MotiaStream
      try {
        stream = createProjectStream(config, this.bridge)
      } catch (err) {
        throw new MotiaConfigError(`${this.rel(file)}: config.schema: ${(err as Error).message}`)
      }
      const previous = this.streamFiles.get(file)
      if (previous !== undefined && previous !== config.name) delete this.streams[previous]
      for (const r of this.streamHooks.get(file) ?? []) r.unregister()
      this.streams[config.name] = stream
      this.streamHooks.set(file, registerStreamHooks(this.bridge, config, this.streams))
      this.streamFiles.set(file, config.name)
      this.hashes.set(file, this.fingerprint(file) ?? '')
      this.log(`${previous ? 'reloaded' : 'loaded'} stream ${config.name} (${this.rel(file)})`)
      return true
    } catch (err) {
      this.reportLoadError(file, err)
      return false
    }
  }

  private reportLoadError(file: string, err: unknown): void {
    const e = err as Error
    const text = e instanceof MotiaConfigError ? e.message : `${this.rel(file)}: ${e?.stack ?? e}`
    process.stderr.write(`[motia] error: cannot load ${text}\n`)
  }

  private startWatching(): void {
    this.watcher = watch(this.root, { recursive: true }, (_event, name) => {
      if (name === null) return
      const file = resolve(this.root, name.toString())
      if (!isProjectSource(this.root, file)) return
      this.changed.add(file)
      clearTimeout(this.timer)
      this.timer = setTimeout(() => {
        const files = [...this.changed]
        this.changed.clear()
        this.reloading = this.reloading
          .then(() => this.applyChanges(files))
          .catch((err) => this.reportLoadError('reload', err))
      }, 80)
    })
    this.watcher.on('error', (err) => process.stderr.write(`[motia] error: watching ${this.root}: ${err.message}\n`))
  }

  private async reloadStep(file: string, foreign: Map<string, ForeignStep>): Promise<void> {
    const def = await this.importStep(file)
    if (def !== undefined) this.registerStep(file, def, foreign)
  }

  private async applyChanges(files: string[]): Promise<void> {
    if (this.stopped) return
    const real = files.filter((f) => {
      const h = this.fingerprint(f)
      return h === undefined ? this.hashes.has(f) || !existsSync(f) : h !== this.hashes.get(f)
    })
    if (real.length === 0) return
    const foreign = this.bridge.isConnected ? await this.foreignSteps().catch(() => new Map()) : new Map()
    let reloadAll = false
    for (const f of real) {
      const exists = existsSync(f)
      if (STREAM_FILE.test(f)) {
        if (exists) await this.loadStream(f)
        else {
          const name = this.streamFiles.get(f)
          if (name !== undefined) delete this.streams[name]
          for (const r of this.streamHooks.get(f) ?? []) r.unregister()
          this.streamHooks.delete(f)
          this.streamFiles.delete(f)
          this.hashes.delete(f)
        }
      } else if (STEP_FILE.test(f)) {
        if (exists) await this.reloadStep(f, foreign)
        else {
          this.unloadStep(f)
          this.hashes.delete(f)
        }
      } else {
        reloadAll = true // a helper changed: every step may import it
        this.hashes.set(f, this.fingerprint(f) ?? '')
      }
    }
    if (reloadAll) {
      this.log('a shared file changed: reloading every step')
      for (const f of [...this.steps.keys()]) if (!real.includes(f)) await this.reloadStep(f, foreign)
    }
    if (this.bridge.isConnected) await this.settled().catch(() => {})
    if (this.reportRegistered() > 0 && this.bridge.isConnected) await this.settled().catch(() => {})
    this.log('reload done')
  }
}
