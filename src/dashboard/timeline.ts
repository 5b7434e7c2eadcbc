/**
 * @module The transitions of each instance the stream has shown since the page opened, newest
 * first: what the cards show, and what the drawer falls back to while the hub serves no history.
 * The entry shape is the history endpoint's. Pure.
 */
import type { InstanceItem } from '../client/index.js'
import type { State } from './format.js'

export type Reason = InstanceItem['connection']['reason']

export interface Transition {
  /** ISO time of the change. */
  at: string
  /** The change's stream position; null for an entry seeded from an item's current state. */
  seq: number | null
  state: State
  reason: Reason
  displayStatus: string
}

export class Timelines {
  private readonly byName = new Map<string, Transition[]>()

  constructor(private readonly keep = 100) {}

  /** Newest first; empty for an unknown name. */
  of(name: string): readonly Transition[] {
    return this.byName.get(name) ?? []
  }

  /** Starts a timeline from the item's current state unless one exists. */
  seed(item: InstanceItem): void {
    if (this.byName.has(item.name)) return
    const c = item.connection
    this.byName.set(item.name, [{ at: c.since, seq: null, state: c.state, reason: c.reason, displayStatus: c.displayStatus }])
  }

  /** Records a change of state, reason or displayStatus; returns whether one was recorded. */
  record(previous: InstanceItem, item: InstanceItem, at: string, seq: number | null = null): boolean {
    const a = previous.connection
    const b = item.connection
    if (a.state === b.state && a.displayStatus === b.displayStatus && sameReason(a.reason, b.reason)) return false
    this.seed(previous)
    const list = this.byName.get(item.name)!
    list.unshift({ at: a.state === b.state ? at : b.since, seq, state: b.state, reason: b.reason, displayStatus: b.displayStatus })
    if (list.length > this.keep) list.length = this.keep
    return true
  }

  forget(name: string): void {
    this.byName.delete(name)
  }
}

export function sameReason(a: Reason, b: Reason): boolean {
  if (a === b) return true
  if (a == null || b == null) return false
  return a.code === b.code && a.name === b.name && a.message === b.message
}
