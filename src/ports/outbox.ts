/**
 * @module The webhook outbox: one row per delivery of one change to one webhook. Rows are born in
 * the write-behind transaction of the change they report (WriteBehind, ports/store.ts); their
 * delivery state then moves through OutboxStore, one small synchronous write per attempt. Rows of
 * one webhook are delivered in `pos` order, the order they were written in.
 */

export type DeliveryStatus = 'pending' | 'delivered' | 'dead'

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'dead']

/** What the deliveries list asks for. */
export interface DeliveryFilter {
  label?: string
  status?: DeliveryStatus
  limit: number
}

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
  list(instanceId: number, filter: DeliveryFilter): Delivery[]
  /** Keeps the newest `keepDelivered` delivered and `keepDead` dead deliveries per webhook; returns how many were deleted. */
  prune(keepDelivered: number, keepDead: number): number
}

/**
 * An outbox held in memory by the cluster's webhook deliverer (spec/webhooks.md "in cluster mode
 * the outbox is derived from the acknowledged change stream"): rows are planned from changes the
 * engine already holds, so they are inserted directly, each with the log position (`origin`) of
 * the change it came from. What must outlive this node (dead letters, how far each webhook has
 * settled) is kept elsewhere from the transitions it reports.
 */
export interface WorkingOutbox extends OutboxStore {
  /** Adds rows as pending, after every row already held; `origin` is their change's log position. */
  insert(rows: readonly OutboxRow[], origin: number): void
  /** Puts back deliveries kept elsewhere (dead letters, re-queued ones): they carry no origin. */
  restore(deliveries: readonly Omit<Delivery, 'pos'>[]): void
  /** Drops every delivery of the instance (it was deleted); returns them. */
  forgetInstance(instanceId: number): Delivery[]
  /** Instances with any delivery held. */
  instanceIds(): number[]
  /**
   * The highest seq at or below which every inserted row of the webhook has left pending, or null
   * when none was inserted. Rows restored or dead-lettered since count as settled.
   */
  settledThrough(instanceId: number, label: string): number | null
  /** Per instance with an inserted row still pending, the lowest origin of those rows. */
  lowestPendingOrigins(): Map<number, number>
  /** Called on every status change (`from` → `to`) and, with `to` null, for every delivery dropped. */
  watch(fn: (d: Delivery, from: DeliveryStatus, to: DeliveryStatus | null) => void): void
}

/** The deliveries endpoints' answers, wherever the outbox is (this process, or the node delivering for a cluster). */
export interface DeliveryDesk {
  list(instanceId: number, filter: DeliveryFilter): Promise<Delivery[]>
  /** Re-queues the dead deliveries of these labels; returns how many. */
  requeue(instanceId: number, labels: readonly string[]): Promise<number>
}
