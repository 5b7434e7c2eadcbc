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

export interface AccountRow {
  id: number
  name: string
  instanceLimit: number
  tokenHash: string
  seq: number
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

/** One write-behind transaction: the latest value of each dirty status row, plus the new change-log rows. */
export interface PersistBatch {
  statuses: { instanceId: number; status: InstanceStatus; version: number; updatedAt: string }[]
  changes: ChangeRow[]
  seqs: { accountId: number; seq: number }[]
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
  createAccount(a: Omit<AccountRow, 'id' | 'seq'>): number
  deleteAccount(id: number): void
  setAccountToken(id: number, tokenHash: string): void
  /** Inserts the instance and its first status row in one transaction; returns the new id. */
  createInstance(i: Omit<InstanceRow, 'id' | 'status' | 'version' | 'updatedAt'>, status: InstanceStatus, updatedAt: string): number
  deleteInstance(id: number): void
  setInstanceToken(id: number, tokenHash: string): void
  /** Committed before it returns: an acknowledged settings write survives a crash. */
  setInstanceConfig(id: number, config: InstanceConfig): void
  writeBatch(batch: PersistBatch): void
  /** Change-log rows of one account with seq > afterSeq and seq < beforeSeq, in order. */
  readChanges(accountId: number, afterSeq: number, beforeSeq: number): ChangeRow[]
  /** The newest `limit` rows of one account, in order (to warm the in-memory ring at start). */
  recentChanges(accountId: number, limit: number): ChangeRow[]
  /** Drops rows older than `minAt` or more than `keep` behind each account's head. */
  pruneChangeLog(keep: number, minAt: number): number
  close(): void
}
