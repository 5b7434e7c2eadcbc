/**
 * @module Connection history in memory: a cluster node's working copy (the engine keeps the rows
 * in SH_HISTORY; see adapters/nats/history-store.ts). Every node derives the same rows from the
 * same changes, and loads the engine's rows when it joins, so one row may arrive twice and out of
 * order: rows are kept sorted by time and a row equal in time, state and reason is kept once.
 * Bounded like the SQLite one by age, keeping each instance's newest row.
 */
import type { HistoryRow, HistoryStore } from '../../ports/history.js'

export class MemoryHistoryStore implements HistoryStore {
  private readonly rows = new Map<number, HistoryRow[]>()

  /** `instanceIds`: every instance the node knows (those without rows start from their snapshot). */
  constructor(private readonly instanceIds: () => readonly number[]) {}

  append(rows: readonly HistoryRow[]): void {
    for (const r of rows) {
      let list = this.rows.get(r.instanceId)
      if (list === undefined) this.rows.set(r.instanceId, (list = []))
      let i = list.length
      while (i > 0 && list[i - 1]!.at > r.at) i--
      let same = false
      for (let j = i - 1; j >= 0 && list[j]!.at === r.at; j--) if (sameRow(list[j]!, r)) same = true
      if (!same) list.splice(i, 0, { ...r })
    }
  }

  recent(instanceId: number, opts: { sinceMs?: number; limit: number }): HistoryRow[] {
    const list = this.rows.get(instanceId) ?? []
    const out: HistoryRow[] = []
    for (let i = list.length - 1; i >= 0 && out.length < opts.limit; i--) {
      const r = list[i]!
      if (opts.sinceMs !== undefined && r.at < opts.sinceMs) break
      out.push(r)
    }
    return out
  }

  since(instanceId: number, fromMs: number): HistoryRow[] {
    const list = this.rows.get(instanceId) ?? []
    let first = list.findIndex((r) => r.at >= fromMs)
    if (first === -1) first = list.length
    return list.slice(Math.max(0, first - 1))
  }

  instancesWithoutRows(): number[] {
    return this.instanceIds().filter((id) => !this.rows.has(id))
  }

  prune(minAt: number): number {
    let dropped = 0
    for (const [id, list] of this.rows) {
      let cut = 0
      while (cut < list.length - 1 && list[cut]!.at < minAt) cut++
      if (cut > 0) {
        this.rows.set(id, list.slice(cut))
        dropped += cut
      }
    }
    return dropped
  }
}

/** The same transition: a row derived twice, or loaded from the engine and derived again. */
export function sameRow(a: HistoryRow, b: HistoryRow): boolean {
  return a.at === b.at && a.state === b.state && (a.reason?.name ?? null) === (b.reason?.name ?? null)
}
