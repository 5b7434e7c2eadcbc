/**
 * @module The client's local copy of the subscribed instances and its stream position, and the
 * rules for applying frames to them. Pure: no sockets, no timers.
 */
import { applyChanges } from '../core/item.js'
import type { DiffFrame, InstanceItem, Position, StreamFrame } from './frames.js'

/** What applying one frame did. Items are never mutated: a change yields a new item object. */
export type Applied =
  | { kind: 'snapshot'; position: Position; recovered: false }
  | { kind: 'resumed'; position: Position; recovered: true }
  | { kind: 'diff'; seq: number; name: string; item: InstanceItem; previous: InstanceItem; changes: Record<string, unknown>; at: string }
  | { kind: 'added'; seq: number; name: string; item: InstanceItem; previous: InstanceItem | undefined }
  | { kind: 'removed'; seq: number; name: string; previous: InstanceItem }
  /** Dropped without effect: already applied (`seq` or `version` not newer), or a removal of an unknown name. */
  | { kind: 'skipped'; seq: number; why: 'duplicate' | 'stale-version' | 'unknown-instance' }
  /** The mirror cannot follow this stream; the caller must subscribe again without a position. */
  | { kind: 'resync'; reason: string }

export class Mirror {
  /** Keyed by instance name. A Map, because names are chosen by users (`__proto__` is a valid name). */
  readonly items = new Map<string, InstanceItem>()
  /** Position of the last applied frame; null until the first snapshot. */
  position: Position | null = null
  private awaiting: string | null = null
  private held: StreamFrame[] = []

  /**
   * A subscribe with this id was sent. Live frames that arrive before its reply are held and
   * applied after it (Phoenix's pendingDiffs), so a reply that overtakes nothing loses nothing.
   */
  expectReply(id: string): void {
    this.awaiting = id
    this.held = []
  }

  /** The next subscribe asks for a fresh snapshot. Items stay until that snapshot replaces them. */
  forgetPosition(): void {
    this.position = null
  }

  apply(frame: StreamFrame): Applied[] {
    if (frame.type === 'snapshot' || frame.type === 'resumed') {
      // A reply to an older subscribe on the same socket describes a stream we no longer follow.
      if (this.awaiting !== null && frame.id !== this.awaiting) return []
      this.awaiting = null
      const held = this.held
      this.held = []
      const reply = frame.type === 'snapshot' ? this.replace(frame.epoch, frame.seq, frame.instances) : this.resume(frame.epoch, frame.seq)
      if (reply.kind === 'resync') return [reply]
      const out: Applied[] = [reply]
      for (const f of held) {
        const a = this.applyLive(f)
        out.push(a)
        if (a.kind === 'resync') break
      }
      return out
    }
    if (this.awaiting !== null) {
      this.held.push(frame)
      return []
    }
    return [this.applyLive(frame)]
  }

  private replace(epoch: string, seq: number, instances: InstanceItem[]): Applied {
    this.items.clear()
    for (const item of instances) this.items.set(item.name, item)
    this.position = { epoch, seq }
    return { kind: 'snapshot', position: this.position, recovered: false }
  }

  private resume(epoch: string, seq: number): Applied {
    const p = this.position
    if (p === null || p.epoch !== epoch || p.seq !== seq) {
      return { kind: 'resync', reason: `resumed at ${epoch}:${seq}, but the mirror is at ${p === null ? 'no position' : `${p.epoch}:${p.seq}`}` }
    }
    return { kind: 'resumed', position: p, recovered: true }
  }

  private applyLive(frame: StreamFrame): Applied {
    const p = this.position
    if (p === null) return { kind: 'resync', reason: `${frame.type} frame before any snapshot` }
    if (frame.type === 'snapshot' || frame.type === 'resumed') return { kind: 'resync', reason: 'a second subscription reply' }
    if (frame.epoch !== undefined && frame.epoch !== p.epoch) return { kind: 'resync', reason: `epoch changed from ${p.epoch} to ${frame.epoch}` }
    if (frame.seq <= p.seq) return { kind: 'skipped', seq: frame.seq, why: 'duplicate' }

    if (frame.type === 'diff') {
      const previous = this.items.get(frame.instance)
      if (previous === undefined) return { kind: 'resync', reason: `diff ${frame.seq} for unknown instance ${frame.instance}` }
      this.advance(frame.seq)
      // `latest` mode folds changes, so versions may skip; only an older or equal one is stale.
      if (frame.version <= previous.version) return { kind: 'skipped', seq: frame.seq, why: 'stale-version' }
      const item = patched(previous, frame)
      this.items.set(frame.instance, item)
      return { kind: 'diff', seq: frame.seq, name: frame.instance, item, previous, changes: frame.changes, at: frame.at }
    }
    if (frame.type === 'added') {
      const name = frame.instance.name
      const previous = this.items.get(name)
      this.items.set(name, frame.instance)
      this.advance(frame.seq)
      return { kind: 'added', seq: frame.seq, name, item: frame.instance, previous }
    }
    const previous = this.items.get(frame.instance)
    this.advance(frame.seq)
    if (previous === undefined) return { kind: 'skipped', seq: frame.seq, why: 'unknown-instance' }
    this.items.delete(frame.instance)
    return { kind: 'removed', seq: frame.seq, name: frame.instance, previous }
  }

  private advance(seq: number): void {
    this.position = { epoch: this.position!.epoch, seq }
  }
}

const UNSAFE_PATH = /(^|\.)(__proto__|constructor|prototype)(\.|$)/

/** A copy of `prev` with the diff applied; groups the diff touches are copied, the rest shared. */
export function patched(prev: InstanceItem, frame: Pick<DiffFrame, 'changes'>): InstanceItem {
  const source = prev as unknown as Record<string, unknown>
  const next: Record<string, unknown> = { ...source }
  const changes: Record<string, unknown> = {}
  for (const [path, value] of Object.entries(frame.changes)) {
    if (UNSAFE_PATH.test(path)) continue
    changes[path] = value
    const dot = path.indexOf('.')
    if (dot < 0) continue
    const head = path.slice(0, dot)
    const group = next[head]
    if (group === source[head] && typeof group === 'object' && group !== null) next[head] = { ...group }
  }
  applyChanges(next, changes)
  return next as unknown as InstanceItem
}
