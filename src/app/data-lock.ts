/**
 * @module One hub per data directory: two writers would let SQLite and the snapshot drift. The
 * lock is an exclusive SQLite lock (a POSIX fcntl lock) on `statushub.lock`, taken atomically by
 * `BEGIN EXCLUSIVE` in `locking_mode=EXCLUSIVE` and held by an open connection for the life of
 * the process. The OS drops it when the process dies, however it dies (`kill -9`, OOM), so a
 * crash never leaves a lock behind, and no pid is ever trusted (pids are reused at once in
 * containers). The file's content means nothing; it stays in the directory.
 *
 * Hazards: the connection must stay referenced until release (a collected handle closes and frees
 * the lock); and nothing in this process may open and close the lock file by other means (POSIX
 * drops every lock a process holds on a file when it closes any descriptor of that file).
 */
import Database from 'better-sqlite3'
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const LOCK_FILE = 'statushub.lock'
/** The pid file of hubs before the SQLite lock; removed once the lock is held. */
const LEGACY_LOCK_FILE = 'hub.lock'

export function lockPath(dataDir: string): string {
  return join(dataDir, LOCK_FILE)
}

export class DataDirLocked extends Error {
  override name = 'DataDirLocked'
  constructor(
    readonly dataDir: string,
    /** The holder's pid as the kernel reports it (/proc/locks), when it can tell. */
    readonly owner: number | null,
  ) {
    super(
      `Another hub${owner === null ? '' : ` (pid ${owner})`} is using ${dataDir}: it holds the lock on ${lockPath(dataDir)}. ` +
        'Stop it first, or set HUB_DATA_DIR to another folder.',
    )
  }
}

/** Takes the data directory's lock or throws DataDirLocked; returns the release. */
export function acquireLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const path = lockPath(dataDir)
  let db: Database.Database
  for (let attempt = 1; ; attempt++) {
    db = new Database(path, { timeout: 0 })
    try {
      db.pragma('locking_mode = EXCLUSIVE')
      db.exec('BEGIN EXCLUSIVE')
      break
    } catch (err) {
      db.close()
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err
      // A process that is itself failing to take the lock holds SQLite's shared byte range for a
      // moment and makes us busy too: only a holder the kernel still names after a few jittered
      // retries is a running hub.
      const owner = lockHolder(path)
      if (owner !== null || attempt >= BUSY_RETRIES) throw new DataDirLocked(dataDir, owner)
      pause(2 + Math.random() * 8)
    }
  }
  // Path-based: never a descriptor of the locked file (see the hazard above).
  chmodSync(path, 0o600)
  rmSync(join(dataDir, LEGACY_LOCK_FILE), { force: true })
  let held = true
  return () => {
    if (!held) return
    held = false
    db.close()
  }
}

const BUSY_RETRIES = 8
const pauseCell = new Int32Array(new SharedArrayBuffer(4))
function pause(ms: number): void {
  Atomics.wait(pauseCell, 0, 0, ms)
}

/** SQLite's shared byte range: only an EXCLUSIVE holder write-locks it (os_unix.c, SHARED_FIRST). */
const SHARED_FIRST = 0x40000002

/**
 * The pid holding SQLite's exclusive lock on `path`, from /proc/locks (Linux); null when none
 * does or it cannot tell. A process on its way to a refusal holds read locks, and write locks
 * only on the pending and reserved bytes below the shared range, so it is never named.
 */
export function lockHolder(path: string): number | null {
  try {
    const { dev, ino } = statSync(path)
    const major = (dev >> 8) & 0xfff
    const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00)
    for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
      // "1: POSIX  ADVISORY  WRITE 4242 fe:00:2146573 1073741824 1073742335" (major:minor in hex)
      const f = line.trim().split(/\s+/)
      const [maj, min, inode] = f[5]?.split(':') ?? []
      if (f[1] !== 'POSIX' || inode !== String(ino) || parseInt(maj!, 16) !== major || parseInt(min!, 16) !== minor) continue
      const end = f[7] === 'EOF' ? Infinity : Number(f[7])
      if (f[3] !== 'WRITE' || end < SHARED_FIRST) continue
      const pid = Number(f[4])
      if (Number.isInteger(pid) && pid > 0) return pid
    }
  } catch {
    // Not Linux, or /proc unavailable: the message goes without a pid.
  }
  return null
}
