/**
 * @module MemoryOutbox implements the OutboxStore port in memory, as the cluster's webhook
 * deliverer holds it (WorkingOutbox, ports/outbox.ts): the same statuses, order and answers as
 * the SQLite outbox, with every status change reported to a watcher so the deliverer can keep
 * what must outlive it in the engine. Per webhook, the pending rows are one array in write order
 * (the sender reads its head); per instance, every row is one array in write order (the list reads
 * it from the end). Delivered rows drop their body, as in SQLite.
 */
import type { Delivery, DeliveryStatus, OutboxRow, WorkingOutbox } from '../../ports/outbox.js'

interface Row extends Delivery {
  /** The log position of the change the row was planned from; null once its durability is elsewhere (restored, dead-lettered). */
  origin: number | null
}

interface HookRows {
  /** Pending rows in write (pos) order. */
  pending: Row[]
  /** The highest seq inserted for the webhook. */
  maxInserted: number | null
}

type Watcher = (d: Delivery, from: DeliveryStatus, to: DeliveryStatus | null) => void

export class MemoryOutbox implements WorkingOutbox {
  private lastPos = 0
  private readonly byPos = new Map<number, Row>()
  private readonly byInstance = new Map<number, Row[]>()
  private readonly hooks = new Map<string, HookRows>()
  private readonly watchers: Watcher[] = []

  watch(fn: Watcher): void {
    this.watchers.push(fn)
  }

  insert(rows: readonly OutboxRow[], origin: number): void {
    for (const r of rows) {
      const hook = this.hook(r.instanceId, r.label)
      const row: Row = {
        pos: ++this.lastPos,
        id: r.id,
        instanceId: r.instanceId,
        label: r.label,
        event: r.event,
        seq: r.seq,
        version: r.version,
        body: r.body,
        status: 'pending',
        attempts: 0,
        createdAt: r.createdAt,
        queuedAt: r.createdAt,
        nextAttemptAt: r.createdAt,
        lastAttemptAt: null,
        lastError: null,
        origin,
      }
      this.add(row)
      hook.pending.push(row)
      hook.maxInserted = Math.max(hook.maxInserted ?? r.seq, r.seq)
    }
  }

  restore(deliveries: readonly Omit<Delivery, 'pos'>[]): void {
    for (const d of deliveries) {
      const row: Row = { ...d, pos: ++this.lastPos, origin: null }
      this.add(row)
      if (row.status === 'pending') this.hook(row.instanceId, row.label).pending.push(row)
    }
  }

  forgetInstance(instanceId: number): Delivery[] {
    const rows = this.byInstance.get(instanceId) ?? []
    this.byInstance.delete(instanceId)
    for (const r of rows) this.byPos.delete(r.pos)
    for (const key of [...this.hooks.keys()]) if (key.startsWith(`${instanceId}/`)) this.hooks.delete(key)
    return rows.map(copy)
  }

  instanceIds(): number[] {
    return [...this.byInstance.keys()]
  }

  settledThrough(instanceId: number, label: string): number | null {
    const hook = this.hooks.get(keyOf(instanceId, label))
    if (hook === undefined) return null
    const first = hook.pending.find((r) => r.origin !== null)
    return first === undefined ? hook.maxInserted : first.seq - 1
  }

  lowestPendingOrigins(): Map<number, number> {
    const lowest = new Map<number, number>()
    for (const hook of this.hooks.values()) {
      const first = hook.pending.find((r) => r.origin !== null)
      if (first === undefined) continue
      const known = lowest.get(first.instanceId)
      if (known === undefined || first.origin! < known) lowest.set(first.instanceId, first.origin!)
    }
    return lowest
  }

  // ---- OutboxStore ------------------------------------------------------------------------------

  pendingCounts(): { instanceId: number; label: string; pending: number }[] {
    const out: { instanceId: number; label: string; pending: number }[] = []
    for (const hook of this.hooks.values()) {
      const head = hook.pending[0]
      if (head !== undefined) out.push({ instanceId: head.instanceId, label: head.label, pending: hook.pending.length })
    }
    return out
  }

  nextPending(instanceId: number, label: string, limit: number): Delivery[] {
    return (this.hooks.get(keyOf(instanceId, label))?.pending ?? []).slice(0, limit).map(copy)
  }

  delivered(pos: number, at: number): void {
    const row = this.byPos.get(pos)
    if (row === undefined) return
    const from = row.status
    this.leavePending(row)
    row.status = 'delivered'
    row.body = null
    row.attempts++
    row.lastAttemptAt = at
    row.lastError = null
    this.emit(row, from, 'delivered')
  }

  retry(pos: number, at: number, error: string, nextAttemptAt: number): void {
    const row = this.byPos.get(pos)
    if (row === undefined || row.status !== 'pending') return
    row.attempts++
    row.lastAttemptAt = at
    row.lastError = error
    row.nextAttemptAt = nextAttemptAt
  }

  dead(pos: number, at: number, error: string, attempted: boolean): void {
    const row = this.byPos.get(pos)
    if (row === undefined || row.status !== 'pending') return
    if (attempted) {
      row.attempts++
      row.lastAttemptAt = at
    }
    this.kill(row, error)
  }

  deadAllPending(instanceId: number, label: string, error: string, exceptPos: number | null): number {
    const hook = this.hooks.get(keyOf(instanceId, label))
    if (hook === undefined) return 0
    const doomed = hook.pending.filter((r) => r.pos !== exceptPos)
    for (const r of doomed) this.kill(r, error)
    return doomed.length
  }

  deadOldestPending(instanceId: number, label: string, count: number, exceptPos: number | null, error: string): number {
    const hook = this.hooks.get(keyOf(instanceId, label))
    if (hook === undefined || count <= 0) return 0
    const doomed: Row[] = []
    for (const r of hook.pending) {
      if (doomed.length >= count) break
      if (r.pos !== exceptPos) doomed.push(r)
    }
    for (const r of doomed) this.kill(r, error)
    return doomed.length
  }

  requeueDead(instanceId: number, labels: readonly string[], at: number): Map<string, number> {
    const out = new Map<string, number>()
    const rows = this.byInstance.get(instanceId) ?? []
    for (const label of labels) {
      const dead = rows.filter((r) => r.label === label && r.status === 'dead')
      if (dead.length === 0) continue
      const hook = this.hook(instanceId, label)
      for (const r of dead) {
        r.status = 'pending'
        r.attempts = 0
        r.queuedAt = at
        r.nextAttemptAt = at
      }
      hook.pending = [...hook.pending, ...dead].sort((a, b) => a.pos - b.pos)
      for (const r of dead) this.emit(r, 'dead', 'pending')
      out.set(label, dead.length)
    }
    return out
  }

  list(instanceId: number, filter: { label?: string; status?: DeliveryStatus; limit: number }): Delivery[] {
    const rows = this.byInstance.get(instanceId) ?? []
    const out: Delivery[] = []
    for (let i = rows.length - 1; i >= 0 && out.length < filter.limit; i--) {
      const r = rows[i]!
      if ((filter.label === undefined || r.label === filter.label) && (filter.status === undefined || r.status === filter.status)) out.push(copy(r))
    }
    return out
  }

  prune(keepDelivered: number, keepDead: number): number {
    let dropped = 0
    for (const [instanceId, rows] of this.byInstance) {
      const seen = new Map<string, number>()
      const keep: Row[] = []
      const gone: Row[] = []
      for (let i = rows.length - 1; i >= 0; i--) {
        const r = rows[i]!
        if (r.status === 'pending') {
          keep.push(r)
          continue
        }
        const k = `${r.status}/${r.label}`
        const n = (seen.get(k) ?? 0) + 1
        seen.set(k, n)
        if (n > (r.status === 'delivered' ? keepDelivered : keepDead)) gone.push(r)
        else keep.push(r)
      }
      if (gone.length === 0) continue
      this.byInstance.set(instanceId, keep.reverse())
      for (const r of gone) {
        this.byPos.delete(r.pos)
        this.emit(r, r.status, null)
      }
      dropped += gone.length
    }
    return dropped
  }

  // ---- internals --------------------------------------------------------------------------------

  private hook(instanceId: number, label: string): HookRows {
    const key = keyOf(instanceId, label)
    let hook = this.hooks.get(key)
    if (hook === undefined) {
      hook = { pending: [], maxInserted: null }
      this.hooks.set(key, hook)
    }
    return hook
  }

  private add(row: Row): void {
    this.byPos.set(row.pos, row)
    let rows = this.byInstance.get(row.instanceId)
    if (rows === undefined) this.byInstance.set(row.instanceId, (rows = []))
    rows.push(row)
  }

  private leavePending(row: Row): void {
    if (row.status !== 'pending') return
    const hook = this.hooks.get(keyOf(row.instanceId, row.label))
    if (hook === undefined) return
    // The sender settles the head, so this is almost always index 0.
    const i = hook.pending.indexOf(row)
    if (i >= 0) hook.pending.splice(i, 1)
  }

  private kill(row: Row, error: string): void {
    this.leavePending(row)
    row.status = 'dead'
    row.lastError = error
    row.origin = null
    this.emit(row, 'pending', 'dead')
  }

  private emit(row: Row, from: DeliveryStatus, to: DeliveryStatus | null): void {
    if (this.watchers.length === 0) return
    const d = copy(row)
    for (const fn of this.watchers) fn(d, from, to)
  }
}

function keyOf(instanceId: number, label: string): string {
  return `${instanceId}/${label}`
}

function copy(r: Row): Delivery {
  const { origin: _origin, ...d } = r
  return d
}
