/**
 * Opening and closing the engine's SQLite files (the state and stream stores, the event queue),
 * one way for all of them.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { Checkpointer } from './checkpointer.js'

/**
 * Opens (creating it and its directory when missing) one of the engine's SQLite files: WAL
 * journal, `synchronous` NORMAL (survives a killed process) or FULL (also power loss), its
 * schema applied, checkpointed by the {@link Checkpointer}. {@link closeSqliteFile} closes it.
 */
export function openSqliteFile(
  file: string,
  synchronous: 'normal' | 'full' | undefined,
  schema: string,
): Database.Database {
  mkdirSync(dirname(file), { recursive: true })
  const db = new Database(file)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
    db.pragma('busy_timeout = 5000')
    db.exec(schema)
  } catch (err) {
    db.close()
    throw err
  }
  Checkpointer.shared().add(file, db)
  return db
}

export function closeSqliteFile(db: Database.Database | null): void {
  if (db === null || !db.open) return
  Checkpointer.shared().remove(db.name)
  db.close()
}
