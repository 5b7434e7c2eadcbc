/**
 * @module Write-behind for status rows and the change log: changes are collected and written in
 * one transaction per tick, never one synchronous write per change on the request path. Only the
 * latest value of a dirty row is written. What the API acknowledges (settings included) is not
 * queued here: the hub writes it through the store before answering.
 */
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import type { AccountState, LiveInstance } from './model.js'
import type { OutboxRow } from '../ports/outbox.js'
import type { ChangeRow, HubStore } from '../ports/store.js'

export class PersistQueue {
  private readonly statuses = new Map<number, LiveInstance>()
  private readonly seqs = new Map<number, AccountState>()
  private changes: ChangeRow[] = []
  private outbox: OutboxRow[] = []
  private committed: (() => void)[] = []
  private timer: NodeJS.Timeout | null = null
  private failures = 0
  /** Transactions and rows written since start, for the benchmarks. */
  readonly stats = { transactions: 0, rows: 0 }
  /** Told how long each written batch took, in seconds (once per transaction, never per change). */
  onBatch: ((seconds: number) => void) | null = null

  constructor(
    private readonly store: HubStore,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  status(i: LiveInstance): void {
    this.statuses.set(i.id, i)
    this.schedule()
  }

  change(account: AccountState, row: ChangeRow): void {
    this.changes.push(row)
    this.seqs.set(account.id, account)
    this.schedule()
  }

  /** Rows derived from the change queued last: they go into the same transaction. */
  attach(rows: readonly OutboxRow[], committed: () => void): void {
    for (const r of rows) this.outbox.push(r)
    this.committed.push(committed)
    this.schedule()
  }

  /** The instance row is gone: pending writes for it would violate its foreign key. */
  forget(instanceId: number): void {
    this.statuses.delete(instanceId)
    if (this.outbox.length > 0) this.outbox = this.outbox.filter((r) => r.instanceId !== instanceId)
  }

  forgetAccount(accountId: number): void {
    this.seqs.delete(accountId)
    this.changes = this.changes.filter((c) => c.accountId !== accountId)
  }

  get pending(): number {
    return this.statuses.size + this.changes.length + this.outbox.length
  }

  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (this.pending === 0 && this.seqs.size === 0) return
    const batch = {
      statuses: [...this.statuses.values()].map((i) => ({ instanceId: i.id, status: i.status, version: i.version, updatedAt: i.updatedAt })),
      changes: this.changes,
      seqs: [...this.seqs.values()].map((a) => ({ accountId: a.id, seq: a.seq })),
      outbox: this.outbox,
    }
    const started = performance.now()
    try {
      this.store.writeBatch(batch)
    } catch (err) {
      // Keep everything queued and retry later: losing the batch would let SQLite drift from memory.
      this.failures++
      this.log.error({ err, failures: this.failures }, 'snapshot write failed; retrying')
      this.timer = setTimeout(() => this.flush(), Math.min(5000, 100 * 2 ** this.failures))
      this.timer.unref()
      return
    }
    this.failures = 0
    this.onBatch?.((performance.now() - started) / 1000)
    this.stats.transactions++
    this.stats.rows += batch.statuses.length + batch.changes.length + batch.seqs.length + batch.outbox.length
    this.statuses.clear()
    this.seqs.clear()
    this.changes = []
    this.outbox = []
    const committed = this.committed
    this.committed = []
    for (const fn of committed) {
      try {
        fn()
      } catch (err) {
        this.log.error({ err }, 'commit listener failed')
      }
    }
  }

  private schedule(): void {
    if (this.timer !== null) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.flush()
    }, this.intervalMs)
  }
}
