/**
 * @module The webhook outbox: one row per delivery of one change to one webhook. Rows are born in
 * the write-behind transaction of the change they report (WriteBehind, ports/store.ts); their
 * delivery state then moves through OutboxStore, one small synchronous write per attempt. Rows of
 * one webhook are delivered in `pos` order, the order they were written in.
 */

export type DeliveryStatus = 'pending' | 'delivered' | 'dead'

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'dead']

/** A delivery as the planner writes it. */
export interface OutboxRow {
  /** The `webhook-id`: stable per delivery, the same on every retry. */
  id: string
  instanceId: number
  label: string
  event: string
  epoch: string
  seq: number
  version: number
  /** The exact JSON POSTed. */
  body: string
  /** Epoch milliseconds. */
  createdAt: number
}

/** A delivery as the store holds it. Times are epoch milliseconds. */
export interface Delivery {
  /** Write order; delivery order within one webhook. */
  pos: number
  id: string
  instanceId: number
  label: string
  event: string
  seq: number
  version: number
  /** null once delivered (the body is not kept after success). */
  body: string | null
  status: DeliveryStatus
  attempts: number
  createdAt: number
  /** When it was written or last re-queued: its retry age counts from here. */
  queuedAt: number
  nextAttemptAt: number
  lastAttemptAt: number | null
  lastError: string | null
}

export interface OutboxStore {
  /** Pending deliveries per webhook (at start). */
  pendingCounts(): { instanceId: number; label: string; pending: number }[]
  /** The oldest `limit` pending deliveries of one webhook, in delivery order. */
  nextPending(instanceId: number, label: string, limit: number): Delivery[]
  delivered(pos: number, at: number): void
  /** A failed attempt that will be retried at `nextAttemptAt`. */
  retry(pos: number, at: number, error: string, nextAttemptAt: number): void
  /** A failed attempt after which the delivery is dead-lettered. */
  dead(pos: number, at: number, error: string, attempted: boolean): void
  /** Dead-letters every pending delivery of the webhook except `exceptPos`; returns how many. */
  deadAllPending(instanceId: number, label: string, error: string, exceptPos: number | null): number
  /** Dead-letters the `count` oldest pending deliveries of the webhook, never `exceptPos` (the one in flight); returns how many. */
  deadOldestPending(instanceId: number, label: string, count: number, exceptPos: number | null, error: string): number
  /** Dead deliveries back to pending, attempts reset, age restarting at `at`; how many per label. */
  requeueDead(instanceId: number, labels: readonly string[], at: number): Map<string, number>
  /** Newest first. */
  list(instanceId: number, filter: { label?: string; status?: DeliveryStatus; limit: number }): Delivery[]
  /** Keeps the newest `keepDelivered` delivered and `keepDead` dead deliveries per webhook; returns how many were deleted. */
  prune(keepDelivered: number, keepDead: number): number
}
