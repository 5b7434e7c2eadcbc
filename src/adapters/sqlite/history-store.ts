/**
 * @module The HistoryStore port over the connection_history table.
 */
import { and, asc, desc, eq, gte, lt } from 'drizzle-orm'
import type { CloseReason, ConnectionState } from '../../core/status.js'
import type { HistoryRow, HistoryStore } from '../../ports/history.js'
import type { OpenedDb } from './db.js'
import { connectionHistory } from './schema.js'

type Row = typeof connectionHistory.$inferSelect

function fromRow(r: Row): HistoryRow {
  return {
    instanceId: r.instanceId,
    seq: r.seq,
    at: r.at,
    state: r.state as ConnectionState,
    reason: r.reason === null ? null : (JSON.parse(r.reason) as CloseReason),
    displayStatus: r.displayStatus,
  }
}

export class SqliteHistoryStore implements HistoryStore {
  private readonly insert

  constructor(private readonly opened: OpenedDb) {
    // An instance deleted since its change was queued has nothing to refer to (foreign keys are
    // not subject to ON CONFLICT): its rows are skipped.
    this.insert = opened.sqlite.prepare(
      `INSERT INTO connection_history (instance_id, seq, at, state, reason, display_status)
       SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM instances WHERE id = ?)`,
    )
  }

  append(rows: readonly HistoryRow[]): void {
    if (rows.length === 0) return
    const insert = this.insert
    this.opened.sqlite.transaction(() => {
      for (const r of rows) insert.run(r.instanceId, r.seq, r.at, r.state, r.reason === null ? null : JSON.stringify(r.reason), r.displayStatus, r.instanceId)
    })()
  }

  recent(instanceId: number, opts: { sinceMs?: number; limit: number }): HistoryRow[] {
    const where =
      opts.sinceMs === undefined
        ? eq(connectionHistory.instanceId, instanceId)
        : and(eq(connectionHistory.instanceId, instanceId), gte(connectionHistory.at, opts.sinceMs))
    return this.opened.db
      .select()
      .from(connectionHistory)
      .where(where)
      .orderBy(desc(connectionHistory.at), desc(connectionHistory.id))
      .limit(opts.limit)
      .all()
      .map(fromRow)
  }

  since(instanceId: number, fromMs: number): HistoryRow[] {
    const db = this.opened.db
    const before = db
      .select()
      .from(connectionHistory)
      .where(and(eq(connectionHistory.instanceId, instanceId), lt(connectionHistory.at, fromMs)))
      .orderBy(desc(connectionHistory.at), desc(connectionHistory.id))
      .limit(1)
      .all()
    const after = db
      .select()
      .from(connectionHistory)
      .where(and(eq(connectionHistory.instanceId, instanceId), gte(connectionHistory.at, fromMs)))
      .orderBy(asc(connectionHistory.at), asc(connectionHistory.id))
      .all()
    return [...before, ...after].map(fromRow)
  }

  instancesWithoutRows(): number[] {
    const rows = this.opened.sqlite
      .prepare(`SELECT i.id FROM instances i WHERE NOT EXISTS (SELECT 1 FROM connection_history h WHERE h.instance_id = i.id) ORDER BY i.id`)
      .pluck()
      .all() as number[]
    return rows
  }

  prune(minAt: number): number {
    // Each instance keeps its newest row whatever its age: it is the state since then.
    return this.opened.sqlite
      .prepare(`DELETE FROM connection_history WHERE at < ? AND id NOT IN (SELECT max(id) FROM connection_history GROUP BY instance_id)`)
      .run(minAt).changes
  }
}

/** Rows of the instance, oldest first (tests and diagnostics). */
export function allHistory(opened: OpenedDb, instanceId: number): HistoryRow[] {
  return opened.db.select().from(connectionHistory).where(eq(connectionHistory.instanceId, instanceId)).orderBy(asc(connectionHistory.id)).all().map(fromRow)
}

