/**
 * A running Motia project: one bridge (worker name `motia`), the project's streams, and its
 * steps; in watch mode a changed file is loaded again and replaces what it registered.
 */
import { createHash } from 'node:crypto'
import { existsSync, type FSWatcher, readFileSync, watch } from 'node:fs'
import { relative, resolve } from 'node:path'
import { type Bridge, createBridge, Stream } from '@iii-dev/sdk'
import { findProjectFiles, importFresh, installLoader, isProjectSource, STEP_FILE, STREAM_FILE } from './loader.js'
import { type StepHandle, StepRegistry } from './registry.js'
import { MotiaConfigError } from './triggers.js'
import type { Schema, StepConfig, StepHandler, StreamConfig } from './types.js'

export interface MotiaAppOptions {
  /** The project directory. */
  root: string
  /** Engine address; default `III_BRIDGE_URL`, else `ws://127.0.0.1:49134`. */
  url?: string
  /** Reload files when they change (`motia dev`). Default false. */
  watch?: boolean
  /** Refuse to start when a step or stream file cannot be loaded (`motia start`). Default false. */
  strict?: boolean
  /** Where Motia's own messages go; default stdout. */
  log?: (line: string) => void
}

/** A stream whose items are checked against the stream's schema before they are stored. */
class CheckedStream<T = unknown> extends Stream<T> {
  constructor(
    name: string,
    bridge: Bridge,
    private readonly schema: Schema<T>,
  ) {
    super(name, bridge)
  }

  override set(groupId: string, itemId: string, data: T) {
    const r = this.schema.safeParse(data)
    if (!r.success) {
      const first = r.error.issues[0] as { path?: unknown[]; message?: string } | undefined
      const at = first?.path?.length ? ` at ${first.path.join('.')}` : ''
      return Promise.reject(
        new TypeError(`stream ${this.streamName}: invalid item${at}: ${first?.message ?? 'schema mismatch'}`),
      )
    }
    return super.set(groupId, itemId, r.data)
  }
}

export class MotiaApp {
  readonly root: string
  readonly bridge: Bridge
  /** The declared streams by name (the object `ctx.streams` is). */
  readonly streams: Record<string, Stream> = {}
  private readonly registry: StepRegistry
  private readonly steps = new Map<string, StepHandle>()
  private readonly streamFiles = new Map<string, string>()
  private readonly hashes = new Map<string, string>()
  private readonly log: (line: string) => void
  private watcher: FSWatcher | undefined
  private changed = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private reloading: Promise<void> = Promise.resolve()
  private stopped = false

  constructor(private readonly options: MotiaAppOptions) {
    this.root = resolve(options.root)
    if (!existsSync(this.root)) throw new Error(`the project directory ${this.root} does not exist`)
    this.log = options.log ?? ((line) => process.stdout.write(`[motia] ${line}\n`))
    this.bridge = createBridge({ url: options.url, workerName: 'motia' })
    this.registry = new StepRegistry(this.bridge, this.streams)
  }

  /** Loads every stream and step, connects, and (in watch mode) starts watching. */
  async start(): Promise<void> {
    await installLoader(this.root)
    const { steps, streams } = findProjectFiles(this.root)
    let failures = 0
    for (const f of streams) if (!(await this.loadStream(f))) failures++
    for (const f of steps) if (!(await this.loadStep(f))) failures++
    if (failures > 0 && this.options.strict) {
      await this.bridge.close()
      throw new Error(`${failures} file(s) could not be loaded`)
    }
    await this.bridge.connect()
    await this.settled()
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

  private async loadStep(file: string): Promise<boolean> {
    try {
      const mod = await importFresh(file)
      const def = (mod.default ?? {}) as { config?: unknown; handler?: unknown }
      const config = (mod.config ?? def.config) as StepConfig
      const handler = (mod.handler ?? def.handler) as StepHandler
      const old = this.steps.get(file)
      const handle = this.registry.register({ config, handler, file: this.rel(file) })
      if (old !== undefined && old.name !== handle.name) old.unregister()
      this.steps.set(file, handle)
      this.hashes.set(file, this.fingerprint(file) ?? '')
      this.log(`${old ? 'reloaded' : 'loaded'} step ${handle.name} (${this.rel(file)}): ${handle.functions.join(', ')}`)
      return true
    } catch (err) {
      this.reportLoadError(file, err)
      return false
    }
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
      if (config.schema !== undefined && typeof config.schema.safeParse !== 'function') {
        throw new MotiaConfigError(`${this.rel(file)}: config.schema must be a Zod schema (with safeParse)`)
      }
      const previous = this.streamFiles.get(file)
      if (previous !== undefined && previous !== config.name) delete this.streams[previous]
      for (const [f, name] of this.streamFiles) {
        if (f !== file && name === config.name) {
          throw new MotiaConfigError(`${this.rel(file)}: stream "${config.name}" is already declared in ${this.rel(f)}`)
        }
      }
      this.streams[config.name] =
        config.schema === undefined
          ? new Stream(config.name, this.bridge)
          : new CheckedStream(config.name, this.bridge, config.schema)
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

  private async applyChanges(files: string[]): Promise<void> {
    if (this.stopped) return
    const real = files.filter((f) => {
      const h = this.fingerprint(f)
      return h === undefined ? this.hashes.has(f) || !existsSync(f) : h !== this.hashes.get(f)
    })
    if (real.length === 0) return
    let reloadAll = false
    for (const f of real) {
      const exists = existsSync(f)
      if (STREAM_FILE.test(f)) {
        if (exists) await this.loadStream(f)
        else {
          const name = this.streamFiles.get(f)
          if (name !== undefined) delete this.streams[name]
          this.streamFiles.delete(f)
          this.hashes.delete(f)
        }
      } else if (STEP_FILE.test(f)) {
        if (exists) await this.loadStep(f)
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
      for (const f of [...this.steps.keys()]) if (!real.includes(f)) await this.loadStep(f)
    }
    if (this.bridge.isConnected) await this.settled().catch(() => {})
    this.log('reload done')
  }
}
