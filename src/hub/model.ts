/**
 * @module The hub's in-memory model: accounts with their instances and stream position, and who a
 * token belongs to. Only the Hub mutates these; edges read them.
 */
import type { InstanceRecord } from '../core/item.js'
import type { ChangeRing } from './change-ring.js'

export interface LiveInstance extends InstanceRecord {
  tokenHash: string
  /** The rendered RyzeAPI item, kept to diff against on the next change. */
  item: Record<string, unknown>
  /** Serialised fragments, valid while their `version` equals the record's. */
  ryzeJson: { version: number; bytes: Buffer } | null
  wachatJson: { version: number; bytes: Buffer } | null
}

export interface AccountState {
  id: number
  name: string
  instanceLimit: number
  tokenHash: string
  createdAt: string
  /** Last seq of this account's stream; 0 = nothing happened yet. */
  seq: number
  /** Instance ids in ascending order (the list order). */
  ids: number[]
  byName: Map<string, LiveInstance>
  ring: ChangeRing
}

export type Principal =
  | { kind: 'admin'; tokenHash: string }
  | { kind: 'account'; tokenHash: string; account: AccountState }
  | { kind: 'instance'; tokenHash: string; account: AccountState; instance: LiveInstance }

export type FrameKind = 'diff' | 'added' | 'removed'

/** What the hub hands to the stream edges for every change, after it is applied. */
export interface ChangeEvent {
  account: AccountState
  instance: LiveInstance
  kind: FrameKind
  seq: number
  frame: string
  /** Dotted paths that changed (diff only); lets the RyzeAPI socket skip non-connection changes. */
  changes: Record<string, unknown> | null
}

export interface StreamListener {
  onChange(e: ChangeEvent): void
  /** Tokens that stopped being valid (rotation, deletion): their sockets are closed with 4001. */
  onRevoke(tokenHashes: string[]): void
}
