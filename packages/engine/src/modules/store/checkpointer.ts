/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit that
 * crosses 1000 WAL pages, and it fsyncs: on the engine's thread that stalled every caller for
 * 3-30 ms about once a second under load (p99 of an emit -> claim -> ack cycle 3.2 ms, max 32
 * ms; with no checkpoint on that thread, 0.55 ms and 4.7 ms). So each SQLite file the engine
 * writes turns its automatic checkpoint off and is registered here: one worker thread, with its
 * own connection per file, runs a PASSIVE checkpoint of each every 500 ms (it never waits
 * for, nor blocks, the engine's writes). Commits still reach the WAL before they are
 * acknowledged; only copying them into the main file moves. If the thread fails, every file
 * gets its automatic checkpoint back. The thread starts with the first write load (a WAL file
 * over 1 MB), so an engine that writes little pays nothing for it.
 */
import { stat } from 'node:fs'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type Database from 'better-sqlite3'

/** SQLite's own default, restored when the thread is gone. */
const AUTO_CHECKPOINT_PAGES = 1000
const INTERVAL_MS = 500
/** How often, before the thread runs, the WAL files' sizes are looked at. */
const POLL_MS = 1000
/** A WAL file this big has seen real write load: the thread starts. */
const START_WAL_BYTES = 1024 * 1024

// The thread's code: plain CommonJS, so it runs from the bundle too (`eval`).
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.sqlite)
const dbs = new Map()
parentPort.on('message', (m) => {
  if (m.add !== undefined) {
    const db = new Database(m.add, { fileMustExist: true })
    db.pragma('busy_timeout = 0')
    dbs.set(m.add, db)
  } else if (m.remove !== undefined) {
    dbs.get(m.remove)?.close()
    dbs.delete(m.remove)
  }
})
setInterval(() => {
  for (const db of dbs.values()) {
    try { db.pragma('wal_checkpoint(PASSIVE)') } catch {}
  }
}, workerData.intervalMs)
`

let shared: Checkpointer | null = null

export class Checkpointer {
  /** Null until started, and again after it failed (then SQLite's own checkpoints are back). */
  private worker: Worker | null = null
  private failed = false
  private readonly files = new Map<string, Database.Database>()
  private poll: NodeJS.Timeout | null = null

  /** The process's one checkpointer (its thread starts under write load, see {@link add}). */
  static shared(): Checkpointer {
    shared ??= new Checkpointer()
    return shared
  }

  /**
   * `db` (open on `file`, in WAL mode) will be checkpointed by the thread. The thread (about
   * 9 MB of memory) starts only once some WAL file has passed {@link START_WAL_BYTES}: an
   * engine that writes little keeps SQLite's own checkpoints and its memory.
   */
  add(file: string, db: Database.Database): void {
    this.files.set(file, db)
    if (this.worker !== null) this.hand(file, db)
    else if (!this.failed && this.poll === null) {
      this.poll = setInterval(() => this.check(), POLL_MS)
      this.poll.unref()
    }
  }

  /** Before `db` closes: the thread lets go of the file. */
  remove(file: string): void {
    if (!this.files.delete(file)) return
    this.worker?.postMessage({ remove: file })
    if (this.files.size === 0 && this.poll !== null) {
      clearInterval(this.poll)
      this.poll = null
    }
  }

  private check(): void {
    for (const file of this.files.keys()) {
      stat(`${file}-wal`, (err, st) => {
        if (err === null && st.size > START_WAL_BYTES && this.worker === null && !this.failed) this.start()
      })
    }
  }

  private start(): void {
    if (this.poll !== null) clearInterval(this.poll)
    this.poll = null
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3')
    const worker = new Worker(THREAD, { eval: true, workerData: { sqlite, intervalMs: INTERVAL_MS } })
    worker.unref()
    worker.on('error', () => this.fallBack())
    worker.on('exit', () => this.fallBack())
    this.worker = worker
    for (const [file, db] of this.files) this.hand(file, db)
  }

  private hand(file: string, db: Database.Database): void {
    if (!db.open) return
    db.pragma('wal_autocheckpoint = 0')
    this.worker?.postMessage({ add: file })
  }

  private fallBack(): void {
    if (this.worker === null) return
    this.worker = null
    this.failed = true
    for (const db of this.files.values()) {
      if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`)
    }
  }
}
