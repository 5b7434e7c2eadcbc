/**
 * @module The change bus: how changes leave the hub. The hub publishes one ChangeRecord per
 * change, in seq order per account; every edge (stream fan-out, SSE, the RyzeAPI socket, webhooks,
 * metrics, a cluster follower) subscribes and learns everything it needs from the record, never
 * from the hub's mutable state. Records are plain data and immutable once published.
 */
import type { RyzeItem } from '../core/item.js'
import type { EventWord } from '../core/status.js'

export type ChangeKind = 'diff' | 'added' | 'removed'

/** A change as the ring, the change log and a replay hold it. */
export interface Change {
  seq: number
  instanceId: number
  /** The instance's name when it changed (a `removed` frame names it). */
  instance: string
  kind: ChangeKind
  /** Epoch milliseconds. */
  at: number
  /** The frame JSON every subscriber receives. */
  frame: string
}

/** The list item's `connection` block after the change. */
export type ConnectionBlock = RyzeItem['connection']

export interface ChangeRecord extends Change {
  accountId: number
  epoch: string
  apiInstanceName: string
  /** The item's version after the change (for `removed`, its last version). */
  version: number
  /** ISO time of the change: the item's `updatedAt` (for `removed`, when it was deleted). */
  time: string
  /** Dotted paths of the item that changed, with their new values (diff only). */
  changes: Readonly<Record<string, unknown>> | null
  /** The whole item (added only). */
  item: Readonly<RyzeItem> | null
  connection: Readonly<ConnectionBlock>
  /** The `instance.state` word of the change (webhooks contract). */
  event: EventWord
}

export interface BusSubscriber {
  onChange(r: ChangeRecord): void
  /** Tokens that stopped being valid (rotation, deletion): whatever they opened is closed. */
  onRevoke(tokenHashes: readonly string[]): void
}

export interface ChangeBus {
  /**
   * Hands the record to every subscriber, in publish order, before it returns. The hub publishes a
   * change once it has applied it, and a cluster node applies a change only once the engine has
   * acknowledged it (cluster/writer.ts, cluster/follower.ts): the bus delivers, it never waits
   * for an acknowledgement.
   */
  publish(r: ChangeRecord): void
  revoke(tokenHashes: readonly string[]): void
  /** Returns the unsubscribe function. */
  subscribe(s: BusSubscriber): () => void
}
