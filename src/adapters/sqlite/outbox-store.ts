/**
 * @module SqliteOutbox implements the OutboxStore port: the delivery state of the webhook outbox
 * (rows are inserted by the write-behind transaction, SqliteStore.writeBatch). Every statement is
 * prepared once and touches one row or one webhook's rows through the (instance, label, status,
 * pos) index, so each write stays small on the event loop.
 */
import type Database from 'better-sqlite3'
import type { Delivery, DeliveryStatus, OutboxStore } from '../../ports/outbox.js'
import type { OpenedDb } from './db.js'

interface Row {
  pos: number
  id: string
  instance_id: number
  label: string
  event: string
  seq: number
  version: number
  body: string | null
  status: string
  attempts: number
  created_at: number
  queued_at: number
  next_attempt_at: number
  last_attempt_at: number | null
  last_error: string | null
}

const COLUMNS = 'pos, id, instance_id, label, event, seq, version, body, status, attempts, created_at, queued_at, next_attempt_at, last_attempt_at, last_error'

export class SqliteOutbox implements OutboxStore {
  private readonly s: {
    counts: Database.Statement
    next: Database.Statement
    delivered: Database.Statement
    retry: Database.Statement
    dead: Database.Statement
    deadAll: Database.Statement
    deadOldest: Database.Statement
    requeue: Database.Statement
    listAll: Database.Statement
    listByLabel: Database.Statement
    listByStatus: Database.Statement
    listByBoth: Database.Statement
    prune: Database.Statement
  }

  constructor(private readonly opened: OpenedDb) {
    const db = opened.sqlite
    const list = (where: string) => db.prepare(`SELECT ${COLUMNS} FROM webhook_outbox WHERE instance_id = @instanceId ${where} ORDER BY pos DESC LIMIT @limit`)
    this.s = {
      counts: db.prepare(`SELECT instance_id, label, count(*) AS pending FROM webhook_outbox WHERE status = 'pending' GROUP BY instance_id, label`),
      next: db.prepare(`SELECT ${COLUMNS} FROM webhook_outbox WHERE instance_id = ? AND label = ? AND status = 'pending' ORDER BY pos LIMIT ?`),
      delivered: db.prepare(
        `UPDATE webhook_outbox SET status = 'delivered', body = NULL, attempts = attempts + 1, last_attempt_at = @at, last_error = NULL WHERE pos = @pos`,
      ),
      retry: db.prepare(
        `UPDATE webhook_outbox SET attempts = attempts + 1, last_attempt_at = @at, last_error = @error, next_attempt_at = @next WHERE pos = @pos AND status = 'pending'`,
      ),
      dead: db.prepare(
        `UPDATE webhook_outbox SET status = 'dead', attempts = attempts + @attempted, last_attempt_at = CASE WHEN @attempted = 1 THEN @at ELSE last_attempt_at END, last_error = @error WHERE pos = @pos AND status = 'pending'`,
      ),
      deadAll: db.prepare(
        `UPDATE webhook_outbox SET status = 'dead', last_error = @error WHERE instance_id = @instanceId AND label = @label AND status = 'pending' AND pos != @except`,
      ),
      // Walks only the rows it drops, from the oldest: cheap however long the backlog is.
      deadOldest: db.prepare(
        `UPDATE webhook_outbox SET status = 'dead', last_error = @error WHERE pos IN (
           SELECT pos FROM webhook_outbox WHERE instance_id = @instanceId AND label = @label AND status = 'pending' AND pos != @except
           ORDER BY pos LIMIT @count)`,
      ),
      requeue: db.prepare(
        `UPDATE webhook_outbox SET status = 'pending', attempts = 0, queued_at = @at, next_attempt_at = @at WHERE instance_id = @instanceId AND label = @label AND status = 'dead'`,
      ),
      listAll: list(''),
      listByLabel: list('AND label = @label'),
      listByStatus: list('AND status = @status'),
      listByBoth: list('AND label = @label AND status = @status'),
      // The newest rows of each (webhook, status) are kept; window functions need SQLite ≥ 3.25.
      prune: db.prepare(
        `DELETE FROM webhook_outbox WHERE pos IN (
           SELECT pos FROM (
             SELECT pos, status, row_number() OVER (PARTITION BY instance_id, label, status ORDER BY pos DESC) AS n
             FROM webhook_outbox WHERE status != 'pending')
           WHERE (status = 'delivered' AND n > @keepDelivered) OR (status = 'dead' AND n > @keepDead))`,
      ),
    }
  }

  pendingCounts(): { instanceId: number; label: string; pending: number }[] {
    return (this.s.counts.all() as { instance_id: number; label: string; pending: number }[]).map((r) => ({ instanceId: r.instance_id, label: r.label, pending: r.pending }))
  }

  nextPending(instanceId: number, label: string, limit: number): Delivery[] {
    return (this.s.next.all(instanceId, label, limit) as Row[]).map(fromRow)
  }

  delivered(pos: number, at: number): void {
    this.s.delivered.run({ pos, at })
  }

  retry(pos: number, at: number, error: string, nextAttemptAt: number): void {
    this.s.retry.run({ pos, at, error, next: nextAttemptAt })
  }

  dead(pos: number, at: number, error: string, attempted: boolean): void {
    this.s.dead.run({ pos, at, error, attempted: attempted ? 1 : 0 })
  }

  deadAllPending(instanceId: number, label: string, error: string, exceptPos: number | null): number {
    return this.s.deadAll.run({ instanceId, label, error, except: exceptPos ?? -1 }).changes
  }

  deadOldestPending(instanceId: number, label: string, count: number, exceptPos: number | null, error: string): number {
    return this.s.deadOldest.run({ instanceId, label, count, except: exceptPos ?? -1, error }).changes
  }

  requeueDead(instanceId: number, labels: readonly string[], at: number): Map<string, number> {
    const out = new Map<string, number>()
    this.opened.sqlite.transaction(() => {
      for (const label of labels) {
        const n = this.s.requeue.run({ instanceId, label, at }).changes
        if (n > 0) out.set(label, n)
      }
    })()
    return out
  }

  list(instanceId: number, filter: { label?: string; status?: DeliveryStatus; limit: number }): Delivery[] {
    const { label, status, limit } = filter
    const stmt = label === undefined ? (status === undefined ? this.s.listAll : this.s.listByStatus) : status === undefined ? this.s.listByLabel : this.s.listByBoth
    return (stmt.all({ instanceId, limit, ...(label === undefined ? {} : { label }), ...(status === undefined ? {} : { status }) }) as Row[]).map(fromRow)
  }

  prune(keepDelivered: number, keepDead: number): number {
    return this.s.prune.run({ keepDelivered, keepDead }).changes
  }
}

function fromRow(r: Row): Delivery {
  return {
    pos: r.pos,
    id: r.id,
    instanceId: r.instance_id,
    label: r.label,
    event: r.event,
    seq: r.seq,
    version: r.version,
    body: r.body,
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    createdAt: r.created_at,
    queuedAt: r.queued_at,
    nextAttemptAt: r.next_attempt_at,
    lastAttemptAt: r.last_attempt_at,
    lastError: r.last_error,
  }
}
