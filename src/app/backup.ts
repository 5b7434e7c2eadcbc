/**
 * @module `npm run hub -- backup <file>`: a consistent copy of the database through SQLite's
 * online backup, while the hub runs or not. It only reads: the database is opened read-only and
 * the data directory's lock is not taken. The copy is written beside `file` (0600) and renamed
 * over it once complete, so a failed backup never leaves a partial file. Secrets stay sealed in
 * the copy; the key is not in it.
 */
import Database from 'better-sqlite3'
import { closeSync, existsSync, openSync, renameSync, rmSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { dbPath } from './compose.js'
import { keyFilePath } from './secret-key.js'

export async function backupDatabase(cfg: { dataDir: string; secretKey?: string | undefined }, file: string): Promise<{ code: number; out: string }> {
  const source = dbPath(cfg.dataDir)
  if (!existsSync(source)) return { code: 1, out: `error: no database at ${source} (HUB_DATA_DIR is ${cfg.dataDir})` }
  const target = resolve(file)
  if (target === resolve(source)) return { code: 1, out: 'error: the backup file must not be the database itself' }
  const partial = `${target}.partial-${process.pid}`
  const db = new Database(source, { readonly: true, fileMustExist: true })
  try {
    closeSync(openSync(partial, 'wx', 0o600))
    const { totalPages } = await db.backup(partial)
    renameSync(partial, target)
    const key = cfg.secretKey !== undefined ? 'the same HUB_SECRET_KEY' : `the key file ${keyFilePath(cfg.dataDir)}`
    return {
      code: 0,
      out: [
        `Backup written to ${target} (${totalPages} pages, ${statSync(target).size} bytes).`,
        `Its secrets are sealed: restoring it needs ${key}, which the backup does not contain. Keep them apart, both safe.`,
      ].join('\n'),
    }
  } catch (err) {
    rmSync(partial, { force: true })
    return { code: 1, out: `error: backup failed: ${(err as Error).message}` }
  } finally {
    db.close()
  }
}
