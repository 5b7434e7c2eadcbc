/**
 * @module Opens the SQLite database: WAL, foreign keys, migrations applied before anything reads it.
 */
import Database from 'better-sqlite3'
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { mkdirSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as schema from './schema.js'

export type Db = BetterSQLite3Database<typeof schema>

export interface OpenedDb {
  db: Db
  /** The raw handle, for the few hot statements prepared by hand and for transactions. */
  sqlite: Database.Database
  close(): void
}

const MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), '../../../drizzle')

export interface OpenOptions {
  /**
   * Checkpoint the WAL from a worker thread every this many ms instead of inside commits (SQLite's
   * automatic checkpoint runs in the commit that crosses 1,000 pages and fsyncs on the event
   * loop: the write-behind's worst stall). Only for the hub's long-lived connection.
   */
  backgroundCheckpointMs?: number
}

/** `path` is a file path or ':memory:'. */
export function openDb(path: string, opts: OpenOptions = {}): OpenedDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new Database(path)
  sqlite.pragma('journal_mode = WAL')
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  const db = drizzle(sqlite, { schema })
  migrate(db, { migrationsFolder: MIGRATIONS })
  const checkpointer = path !== ':memory:' && opts.backgroundCheckpointMs !== undefined ? startCheckpointer(sqlite, path, opts.backgroundCheckpointMs) : null
  return {
    db,
    sqlite,
    close: () => {
      checkpointer?.stop()
      if (sqlite.open) sqlite.close()
    },
  }
}

function startCheckpointer(sqlite: Database.Database, path: string, intervalMs: number): { stop(): void } {
  const worker = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), { workerData: { path, intervalMs } })
  worker.unref()
  sqlite.pragma('wal_autocheckpoint = 0')
  // Without its checkpointer the WAL would grow without bound: fall back to checkpoints in commits.
  const fallBack = () => {
    if (sqlite.open) sqlite.pragma('wal_autocheckpoint = 1000')
  }
  worker.on('message', (m: { error?: string }) => {
    if (m.error === undefined) return
    fallBack()
    void worker.terminate()
  })
  worker.on('error', fallBack)
  return { stop: () => worker.postMessage('stop') }
}
