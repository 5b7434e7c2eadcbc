/**
 * The WAL checkpointer's thread: its own connection runs `wal_checkpoint(PASSIVE)` on a timer, so
 * the copy back into the database file (and its fsync) never runs inside a commit on the hub's
 * event loop. PASSIVE never waits for or blocks the writer. workerData: { path, intervalMs }.
 */
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const db = new Database(workerData.path)
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch (err) {
    // A busy database is retried on the next tick; anything else is the owner's to handle.
    if (err?.code !== 'SQLITE_BUSY' && err?.code !== 'SQLITE_LOCKED') parentPort.postMessage({ error: String(err) })
  }
}, workerData.intervalMs)

parentPort.on('message', (m) => {
  if (m !== 'stop') return
  clearInterval(timer)
  db.close()
  parentPort.close()
})
