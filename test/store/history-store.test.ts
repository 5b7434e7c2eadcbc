/**
 * The connection_history table (SQLite): retention keeps every row younger than the cutoff and each
 * instance's newest row whatever its age; rows of deleted instances are never written.
 */
import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDb, type OpenedDb } from '../../src/adapters/sqlite/db.js'
import { allHistory, SqliteHistoryStore } from '../../src/adapters/sqlite/history-store.js'
import { instances } from '../../src/adapters/sqlite/schema.js'
import type { HistoryRow } from '../../src/ports/history.js'
import { addInstances } from '../whatsapp/helpers.js'

const DAY = 86_400_000
const NOW = Date.parse('2026-03-20T12:00:00.000Z')
const row = (instanceId: number, at: number, state: HistoryRow['state'] = 'connected', seq = 1): HistoryRow => ({
  instanceId,
  seq,
  at,
  state,
  reason: state === 'connected' ? null : { code: 428, name: 'connectionClosed', message: 'Connection Terminated' },
  displayStatus: state === 'connected' ? 'Online' : 'Reconnecting (connection closed), attempt 1',
})

let opened: OpenedDb
let store: SqliteHistoryStore
beforeEach(() => {
  opened = openDb(':memory:')
  addInstances(opened, 2)
  store = new SqliteHistoryStore(opened)
})
afterEach(() => opened.close())

describe('SqliteHistoryStore', () => {
  it('prunes rows older than the cutoff but keeps each instance’s newest row, so its state since then is known', () => {
    store.append([row(1, NOW - 9 * DAY, 'connecting', 1), row(1, NOW - 8 * DAY, 'connected', 2), row(1, NOW - 2 * DAY, 'connecting', 3), row(2, NOW - 30 * DAY, 'connected', 1)])
    expect(store.prune(NOW - 7 * DAY)).toBe(2)
    expect(allHistory(opened, 1).map((r) => r.seq)).toEqual([3])
    expect(allHistory(opened, 2)).toEqual([row(2, NOW - 30 * DAY, 'connected', 1)])
    // The state at the start of a window comes from the row before it.
    expect(store.since(2, NOW - DAY)).toEqual([row(2, NOW - 30 * DAY, 'connected', 1)])
  })

  it('keeps rows exactly at the cutoff', () => {
    store.append([row(1, NOW - 7 * DAY, 'connected', 1), row(1, NOW, 'connecting', 2)])
    expect(store.prune(NOW - 7 * DAY)).toBe(0)
  })

  it('answers recent rows newest first, the window with the row before it, and the instances without rows', () => {
    expect(store.instancesWithoutRows()).toEqual([1, 2])
    store.append([row(1, NOW - 3 * DAY, 'connected', 1), row(1, NOW - 2 * DAY, 'connecting', 2), row(1, NOW - DAY, 'connected', 3), row(2, NOW - DAY, 'connecting', 1)])
    expect(store.recent(1, { limit: 2 }).map((r) => r.seq)).toEqual([3, 2])
    expect(store.recent(1, { limit: 10, sinceMs: NOW - 2 * DAY }).map((r) => r.seq)).toEqual([3, 2])
    expect(store.since(1, NOW - 1.5 * DAY).map((r) => r.seq)).toEqual([2, 3])
    expect(store.instancesWithoutRows()).toEqual([])
  })

  it('skips rows of an instance deleted since they were queued, and writes the others', () => {
    opened.db.delete(instances).where(eq(instances.id, 1)).run()
    expect(() => store.append([row(1, NOW), row(2, NOW)])).not.toThrow()
    expect([allHistory(opened, 1), allHistory(opened, 2)]).toEqual([[], [row(2, NOW)]])
  })
})
