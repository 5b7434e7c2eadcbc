/**
 * @module Recent transitions of each instance, kept in the browser from the stream's diffs (the
 * hub keeps no per-instance history to ask for). Pure.
 */
import type { InstanceItem } from '../client/index.js'
import type { State } from './format.js'

export interface Transition {
  /** ISO time of the change. */
  at: string
  state: State
  displayStatus: string
}

export class Timelines {
  private readonly byName = new Map<string, Transition[]>()

  constructor(private readonly keep = 6) {}

  /** Newest first; empty for an unknown name. */
  of(name: string): readonly Transition[] {
    return this.byName.get(name) ?? []
  }

  /** Starts a timeline from the item's current state unless one exists. */
  seed(item: InstanceItem): void {
    if (this.byName.has(item.name)) return
    this.byName.set(item.name, [{ at: item.connection.since, state: item.connection.state, displayStatus: item.connection.displayStatus }])
  }

  /** Records a change of state or displayStatus; returns whether one was recorded. */
  record(previous: InstanceItem, item: InstanceItem, at: string): boolean {
    const a = previous.connection
    const b = item.connection
    if (a.state === b.state && a.displayStatus === b.displayStatus) return false
    this.seed(previous)
    const list = this.byName.get(item.name)!
    list.unshift({ at: a.state === b.state ? at : b.since, state: b.state, displayStatus: b.displayStatus })
    if (list.length > this.keep) list.length = this.keep
    return true
  }

  forget(name: string): void {
    this.byName.delete(name)
  }
}
