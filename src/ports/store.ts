/**
 * @module The persistence port the hub writes through; the SQLite adapter implements it. Every
 * method is synchronous: better-sqlite3 is, and the hub relies on it to keep
 * snapshot-then-subscribe and resume atomic without an await.
 *
 * Durability: every method but writeBatch commits before it returns, so what the API acknowledges
 * (accounts, instances, tokens, settings, deletes) survives a crash of the hub process. Only
 * writeBatch (status rows, the change log, account seqs) is write-behind: a crash loses its last
 * few milliseconds, which the new epoch after an unclean stop covers.
 */
import type { InstanceConfig } from '../core/integrations.js'
import type { InstanceStatus } from '../core/status.js'
import type { Change } from './bus.js'
import type { OutboxRow } from './outbox.js'

export interface AccountRow {
  id: number
  name: string
  instanceLimit: number
  tokenHash: string
  seq: number
  /** Every seq up to this may have been shown (see HubStore.reserveSeq). */
  seqReserved: number
  /** Where the current epoch began; the change log holds nothing of this epoch at or below it. */
  epochSeq: number
  createdAt: string
}

export interface InstanceRow {
  id: number
  accountId: number
  name: string
  apiInstanceName: string
  tokenHash: string
  /** A loaded row may parse it (and open its secrets) on first read: read it only when needed. */
  readonly config: InstanceConfig
  createdAt: string
  /** Null only for a row written by a crashed create (never in normal operation). */
  readonly status: InstanceStatus | null
  readonly version: number
  readonly updatedAt: string
  /**
   * The stored connection state, when the store can give it without reading the rest of the row
   * (a loaded row reads its record, like its config, on first use). Null: no status row.
   */
  readonly state?: InstanceStatus['state'] | null
}

export interface ChangeRow extends Change {
  accountId: number
}

/**
 * One write-behind transaction: the latest value of each dirty status row, plus the new change-log
 * rows and the webhook deliveries derived from those changes.
 */
export interface PersistBatch {
  statuses: { instanceId: number; status: InstanceStatus; version: number; updatedAt: string }[]
  changes: ChangeRow[]
  seqs: { accountId: number; seq: number }[]
  /** Inserted in write order; a row whose id is already stored is skipped. */
  outbox: OutboxRow[]
}

/**
 * The hub's write-behind, as an edge that derives durable rows from a change sees it. Rows
 * attached while the change is being published (inside a bus subscriber's `onChange`, which the
 * embedded bus calls synchronously) commit in the change's own transaction: a crash keeps both or
 * loses both.
 */
export interface WriteBehind {
  /** `committed` runs once the rows are stored (after the transaction, never inside it). */
  attach(rows: readonly OutboxRow[], committed: () => void): void
}

export interface LoadedState {
  meta: Map<string, string>
  accounts: AccountRow[]
  instances: InstanceRow[]
  /** Highest seq present in the change log, per account. */
  logHeads: Map<number, number>
}

export interface HubStore {
  load(): LoadedState
  setMeta(key: string, value: string): void
  createAccount(a: Omit<AccountRow, 'id' | 'seq' | 'seqReserved' | 'epochSeq'>): number
  deleteAccount(id: number): void
  setAccountToken(id: number, tokenHash: string): void
  /** Inserts the instance and its first status row in one transaction; returns the new id. */
  createInstance(i: Omit<InstanceRow, 'id' | 'status' | 'version' | 'updatedAt'>, status: InstanceStatus, updatedAt: string): number
  deleteInstance(id: number): void
  setInstanceToken(id: number, tokenHash: string): void
  /** Committed before it returns: an acknowledged settings write survives a crash. */
  setInstanceConfig(id: number, config: InstanceConfig): void
  writeBatch(batch: PersistBatch): void
  /** Durably records that seqs up to `upTo` may be shown; committed before the call returns. */
  reserveSeq(accountId: number, upTo: number): void
  /**
   * Starts a new epoch above everything a crash may have hidden: each account's seq jumps to its
   * reservation, and each of its instances' versions by as much (a lost change bumped one version
   * by one, so no version shown before can come again). One transaction.
   */
  startEpochAbove(jumps: { accountId: number; seq: number; versionBump: number }[]): void
  /** Change-log rows of one account with seq > afterSeq and seq < beforeSeq, in order. */
  readChanges(accountId: number, afterSeq: number, beforeSeq: number): ChangeRow[]
  /** The `removed` rows of one account with seq > afterSeq and seq < beforeSeq (bounded by the range). */
  readRemovals(accountId: number, afterSeq: number, beforeSeq: number): { instanceId: number; instance: string }[]
  /** The newest `limit` rows of one account, in order (to warm the in-memory ring at start). */
  recentChanges(accountId: number, limit: number): ChangeRow[]
  /** Drops rows older than `minAt` or more than `keep` behind each account's head. */
  pruneChangeLog(keep: number, minAt: number): number
  close(): void
}
