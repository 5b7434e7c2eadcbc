/**
 * @module The connection history: one row per change of an instance's connection.state or
 * connection.reason, kept in its own table (not the bounded change log) for the retention period.
 * Synchronous, like the hub's store (better-sqlite3).
 */
import type { CloseReason, ConnectionState } from '../core/status.js'

export interface HistoryRow {
  instanceId: number
  /** The account stream position of the change (for rows the hub writes itself: the position then). */
  seq: number
  /** Epoch milliseconds. */
  at: number
  state: ConnectionState
  reason: CloseReason | null
  displayStatus: string
}

export interface HistoryStore {
  append(rows: readonly HistoryRow[]): void
  /** Newest first: at most `limit` rows, only those at or after `sinceMs` when given. */
  recent(instanceId: number, opts: { sinceMs?: number; limit: number }): HistoryRow[]
  /** Oldest first: every row at or after `fromMs`, preceded by the last row before it (the state then). */
  since(instanceId: number, fromMs: number): HistoryRow[]
  /** Instances that have no row yet (created before the history existed). */
  instancesWithoutRows(): number[]
  /** Deletes rows older than `minAt`, except each instance's newest row; returns how many. */
  prune(minAt: number): number
}
