/**
 * @module Connection history in memory: a cluster node's, holding what the node applied since it
 * joined (the engine keeps no history of its own; every node derives the same rows from the same
 * changes). Bounded like the SQLite one by age, keeping each instance's newest row.
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
      list.push({ ...r })
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
