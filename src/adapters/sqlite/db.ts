/**
 * @module Opens the SQLite database: WAL, foreign keys, migrations applied before anything reads it.
 */
import Database from 'better-sqlite3'
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { mkdirSync } from 'node:fs'
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

/** `path` is a file path or ':memory:'. */
export function openDb(path: string): OpenedDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new Database(path)
  sqlite.pragma('journal_mode = WAL')
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  const db = drizzle(sqlite, { schema })
  migrate(db, { migrationsFolder: MIGRATIONS })
  return {
    db,
    sqlite,
    close: () => {
      if (sqlite.open) sqlite.close()
    },
  }
}
