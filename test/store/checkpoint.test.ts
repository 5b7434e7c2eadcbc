/**
 * The hub's connection leaves WAL checkpoints to a worker thread, so no commit on the event loop
 * copies pages back into the database file.
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDb } from '../../src/adapters/sqlite/db.js'
import { tempDir } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'

describe('background WAL checkpoints', () => {
  it('turns off checkpoints in commits and copies committed pages into the database file from the worker', async () => {
    const dir = tempDir()
    const opened = openDb(join(dir, 'hub.db'), { backgroundCheckpointMs: 20 })
    try {
      expect(opened.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0)
      opened.sqlite.exec('CREATE TABLE t (x TEXT)')
      const insert = opened.sqlite.prepare('INSERT INTO t VALUES (?)')
      opened.sqlite.transaction(() => {
        for (let i = 0; i < 5000; i++) insert.run('x'.repeat(200))
      })()
      // Committed pages sit in the WAL until a checkpoint copies them into the database file.
      const file = join(dir, 'hub.db')
      await until(() => statSync(file).size > 1_000_000, { ms: 5000, what: 'the checkpoint to copy the WAL into hub.db', detail: () => statSync(file).size })
      expect(statSync(file).size).toBeGreaterThan(1_000_000)
    } finally {
      opened.close()
    }
  })

  it('keeps checkpoints in commits for connections without the worker (the CLI)', () => {
    const opened = openDb(join(tempDir(), 'cli.db'))
    expect(opened.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(1000)
    opened.close()
  })
})
