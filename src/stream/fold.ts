/**
 * @module Folding for `latest` subscribers under backpressure: at most one pending change per
 * instance, the newest state winning, so a slow client's backlog is bounded by its instance count.
 * A client that never saw an instance's `added` gets it with the latest item; diffs merge path by
 * path; an `added` then `removed` cancels out. Transport-free.
 */
import { applyChanges, type RyzeItem } from '../core/item.js'
import type { ChangeKind, ChangeRecord } from '../ports/bus.js'

/** What folding needs of a change. */
export type Foldable = Pick<ChangeRecord, 'seq' | 'instanceId' | 'instance' | 'kind' | 'epoch' | 'version' | 'time' | 'changes' | 'item'>

interface Pending {
  epoch: string
  kind: ChangeKind
  seq: number
  name: string
  version: number
  at: string
  /** diff: the merged changes. */
  changes: Record<string, unknown>
  /** added: the item with every later diff applied. */
  item: Record<string, unknown> | null
}

export class Folder {
  private readonly pending = new Map<number, Pending>()

  get size(): number {
    return this.pending.size
  }

  add(r: Foldable): void {
    const prev = this.pending.get(r.instanceId)
    if (prev?.kind === 'added' && r.kind === 'removed') {
      this.pending.delete(r.instanceId)
      return
    }
    const next: Pending = { epoch: r.epoch, kind: r.kind, seq: r.seq, name: r.instance, version: r.version, at: r.time, changes: { ...r.changes }, item: r.item === null ? null : copyItem(r.item) }
    if (prev !== undefined && r.kind === 'diff') {
      if (prev.kind === 'added') {
        applyChanges(prev.item!, next.changes)
        next.kind = 'added'
        next.item = prev.item
        next.changes = {}
      } else {
        next.changes = { ...prev.changes, ...next.changes }
      }
    }
    this.pending.set(r.instanceId, next)
  }

  /** Forgets the instances `keep` rejects (an unsubscribe while folding). */
  retain(keep: (instanceId: number) => boolean): void {
    for (const id of [...this.pending.keys()]) if (!keep(id)) this.pending.delete(id)
  }

  /** The folded changes as frames, in seq order; empties the folder. */
  drain(): string[] {
    const out = [...this.pending.values()].sort((a, b) => a.seq - b.seq).map(frameOf)
    this.pending.clear()
    return out
  }
}

function frameOf(p: Pending): string {
  const epoch = p.epoch
  if (p.kind === 'removed') return JSON.stringify({ type: 'removed', epoch, seq: p.seq, instance: p.name })
  if (p.kind === 'added') return JSON.stringify({ type: 'added', epoch, seq: p.seq, instance: p.item })
  return JSON.stringify({ type: 'diff', epoch, seq: p.seq, instance: p.name, version: p.version, at: p.at, changes: p.changes })
}

/** One level deeper than the groups a diff path names, so applying changes never touches the record. */
function copyItem(item: Readonly<RyzeItem>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(item)) out[k] = typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...v } : v
  return out
}
