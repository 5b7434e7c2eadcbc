/**
 * @module Opens the SQLite database: WAL, foreign keys, migrations applied and secrets prepared
 * (secrets.ts) before anything reads it. The file and its WAL and shared-memory files are the
 * owner's only (0600): they hold the sessions, sealed or not.
 */
import Database from 'better-sqlite3'
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { SecretBox } from '../../ports/secrets.js'
import * as schema from './schema.js'
import { NO_KEY, prepareSecrets } from './secrets.js'

export type Db = BetterSQLite3Database<typeof schema>

export interface OpenedDb {
  db: Db
  /** The raw handle, for the few hot statements prepared by hand and for transactions. */
  sqlite: Database.Database
  /** What every adapter on this database seals its secrets with (NO_KEY when opened without a key). */
  box: SecretBox
  /** Plaintext secrets this open sealed (the first open with a key of an older database). */
  sealedAtOpen: number
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
  /** Seals secrets at rest; without it they are written as they are (tests and tools only). */
  box?: SecretBox
}

/** `path` is a file path or ':memory:'. */
export function openDb(path: string, opts: OpenOptions = {}): OpenedDb {
  if (path !== ':memory:') ownerOnly(path)
  const sqlite = new Database(path)
  sqlite.pragma('journal_mode = WAL')
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  const db = drizzle(sqlite, { schema })
  migrate(db, { migrationsFolder: MIGRATIONS })
  const box = opts.box ?? NO_KEY
  let sealedAtOpen = 0
  try {
    if (opts.box !== undefined) sealedAtOpen = prepareSecrets(sqlite, opts.box)
  } catch (err) {
    sqlite.close()
    throw err
  }
  const checkpointer = path !== ':memory:' && opts.backgroundCheckpointMs !== undefined ? startCheckpointer(sqlite, path, opts.backgroundCheckpointMs) : null
  return {
    db,
    sqlite,
    box,
    sealedAtOpen,
    close: () => {
      checkpointer?.stop()
      if (sqlite.open) sqlite.close()
    },
  }
}

/**
 * Creates the database file 0600 when it is new and narrows an older one's mode. Only before
 * SQLite opens it: closing any descriptor of a file drops this process's POSIX locks on it.
 */
function ownerOnly(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  if (!existsSync(path)) {
    try {
      closeSync(openSync(path, 'wx', 0o600))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  // SQLite gives the WAL and shared-memory files the database file's mode when it creates them.
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600)
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
