/**
 * @module A HubStore in memory: what a cluster node's hub writes through. The engine holds the
 * durable state (KV and the change stream); this store is the node's cache of it, filled from the
 * engine before the hub starts (`preload`), and its change log is what the node replayed or applied
 * since, bounded like the SQLite one by count and age.
 */
import type { AccountRow, ChangeRow, HubStore, InstanceRow, LoadedState, PersistBatch } from '../../ports/store.js'
import type { InstanceConfig } from '../../core/integrations.js'
import type { InstanceStatus } from '../../core/status.js'

export interface Preload {
  meta: Record<string, string>
  accounts: AccountRow[]
  instances: InstanceRow[]
  /** Per account, in seq order: the changes still kept by the engine. */
  changes: Map<number, ChangeRow[]>
}

export class MemoryStore implements HubStore {
  private readonly meta = new Map<string, string>()
  private readonly accounts = new Map<number, AccountRow>()
  private readonly instances = new Map<number, InstanceRow>()
  private readonly log = new Map<number, ChangeRow[]>()
  private nextAccountId = 1
  private nextInstanceId = 1

  constructor(preload?: Preload) {
    if (preload === undefined) return
    for (const [k, v] of Object.entries(preload.meta)) this.meta.set(k, v)
    for (const a of preload.accounts) {
      this.accounts.set(a.id, { ...a })
      this.nextAccountId = Math.max(this.nextAccountId, a.id + 1)
    }
    for (const i of preload.instances) {
      this.instances.set(i.id, { ...i })
      this.nextInstanceId = Math.max(this.nextInstanceId, i.id + 1)
    }
    for (const [accountId, rows] of preload.changes) this.log.set(accountId, [...rows])
  }

  load(): LoadedState {
    const byId = <T extends { id: number }>(m: Map<number, T>) => [...m.values()].sort((a, b) => a.id - b.id)
    const logHeads = new Map<number, number>()
    for (const [accountId, rows] of this.log) if (rows.length > 0) logHeads.set(accountId, rows[rows.length - 1]!.seq)
    return { meta: new Map(this.meta), accounts: byId(this.accounts).map((a) => ({ ...a })), instances: byId(this.instances).map((i) => ({ ...i })), logHeads }
  }

  setMeta(key: string, value: string): void {
    this.meta.set(key, value)
  }

  createAccount(a: Omit<AccountRow, 'id' | 'seq' | 'seqReserved' | 'epochSeq'>): number {
    const id = this.nextAccountId++
    this.accounts.set(id, { ...a, id, seq: 0, seqReserved: 0, epochSeq: 0 })
    return id
  }

  deleteAccount(id: number): void {
    this.accounts.delete(id)
    this.log.delete(id)
    for (const [instanceId, i] of this.instances) if (i.accountId === id) this.instances.delete(instanceId)
  }

  setAccountToken(id: number, tokenHash: string): void {
    const a = this.accounts.get(id)
    if (a !== undefined) a.tokenHash = tokenHash
  }

  createInstance(i: Omit<InstanceRow, 'id' | 'status' | 'version' | 'updatedAt'>, status: InstanceStatus, updatedAt: string): number {
    const id = this.nextInstanceId++
    this.instances.set(id, { ...i, id, status, version: 1, updatedAt })
    return id
  }

  deleteInstance(id: number): void {
    this.instances.delete(id)
  }

  setInstanceToken(id: number, tokenHash: string): void {
    const i = this.instances.get(id)
    if (i !== undefined) this.instances.set(id, { ...i, tokenHash })
  }

  setInstanceConfig(id: number, config: InstanceConfig): void {
    const i = this.instances.get(id)
    if (i !== undefined) this.instances.set(id, { ...i, config })
  }

  writeBatch(batch: PersistBatch): void {
    for (const s of batch.statuses) {
      const i = this.instances.get(s.instanceId)
      if (i !== undefined) this.instances.set(s.instanceId, { ...i, status: s.status, version: s.version, updatedAt: s.updatedAt })
    }
    for (const c of batch.changes) {
      let rows = this.log.get(c.accountId)
      if (rows === undefined) this.log.set(c.accountId, (rows = []))
      // A follower may apply a change it replayed already; the log keeps one row per seq.
      if (rows.length === 0 || rows[rows.length - 1]!.seq < c.seq) rows.push(c)
    }
    for (const s of batch.seqs) {
      const a = this.accounts.get(s.accountId)
      if (a !== undefined) a.seq = Math.max(a.seq, s.seq)
    }
  }

  reserveSeq(accountId: number, upTo: number): void {
    const a = this.accounts.get(accountId)
    if (a !== undefined) a.seqReserved = Math.max(a.seqReserved, upTo)
  }

  startEpochAbove(jumps: { accountId: number; seq: number; versionBump: number }[]): void {
    for (const j of jumps) {
      const a = this.accounts.get(j.accountId)
      if (a === undefined) continue
      a.seq = a.epochSeq = j.seq
      a.seqReserved = Math.max(a.seqReserved, j.seq)
    }
  }

  readChanges(accountId: number, afterSeq: number, beforeSeq: number): ChangeRow[] {
    const rows = this.log.get(accountId) ?? []
    return rows.slice(this.indexAfter(rows, afterSeq)).filter((r) => r.seq < beforeSeq)
  }

  readRemovals(accountId: number, afterSeq: number, beforeSeq: number): { instanceId: number; instance: string }[] {
    return this.readChanges(accountId, afterSeq, beforeSeq)
      .filter((r) => r.kind === 'removed')
      .map((r) => ({ instanceId: r.instanceId, instance: r.instance }))
  }

  recentChanges(accountId: number, limit: number): ChangeRow[] {
    const rows = this.log.get(accountId) ?? []
    return rows.slice(Math.max(0, rows.length - limit))
  }

  pruneChangeLog(keep: number, minAt: number): number {
    let dropped = 0
    for (const [accountId, rows] of this.log) {
      // As in SQLite, the head row stays: it shows how far the log reaches.
      let cut = 0
      while (cut < rows.length - 1 && (rows.length - cut > keep || rows[cut]!.at < minAt)) cut++
      if (cut > 0) {
        this.log.set(accountId, rows.slice(cut))
        dropped += cut
      }
    }
    return dropped
  }

  close(): void {}

  /** First index whose seq is above `afterSeq` (rows are in seq order). */
  private indexAfter(rows: readonly ChangeRow[], afterSeq: number): number {
    let lo = 0
    let hi = rows.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (rows[mid]!.seq <= afterSeq) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
