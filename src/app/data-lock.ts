/**
 * @module One hub per data directory: two writers would let SQLite and the snapshot drift. The lock
 * is a file holding the owner's pid; a lock whose process is gone is taken over.
 */
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'

export function lockPath(dataDir: string): string {
  return join(dataDir, 'hub.lock')
}

/** The pid holding the lock, if that process is alive. */
export function lockOwner(dataDir: string): number | null {
  let pid: number
  try {
    pid = Number(readFileSync(lockPath(dataDir), 'utf8').trim())
  } catch {
    return null
  }
  if (!Number.isInteger(pid) || pid <= 0) return null
  try {
    process.kill(pid, 0)
    return pid
  } catch {
    return null
  }
}

export function acquireLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  const owner = lockOwner(dataDir)
  if (owner !== null && owner !== process.pid) {
    throw new Error(`Another hub (pid ${owner}) is using ${dataDir}; stop it first or set HUB_DATA_DIR to another folder.`)
  }
  writeFileSync(lockPath(dataDir), String(process.pid))
  return () => rmSync(lockPath(dataDir), { force: true })
}
