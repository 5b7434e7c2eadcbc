/**
 * @module Timers for the runner: the system ones, and named slots per instance.
 */
import type { Timers } from '../../ports/socket.js'

/** Reads the globals at call time, so vitest fake timers apply. */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** One pending timer per kind: setting a kind replaces the previous timer of that kind. */
export class TimerSlots<K extends string> {
  private readonly slots = new Map<K, unknown>()

  constructor(private readonly timers: Timers) {}

  set(kind: K, ms: number, fire: () => void): void {
    this.clear(kind)
    const handle = this.timers.setTimeout(() => {
      this.slots.delete(kind)
      fire()
    }, ms)
    this.slots.set(kind, handle)
  }

  clear(kind: K): void {
    const handle = this.slots.get(kind)
    if (handle === undefined) return
    this.timers.clearTimeout(handle)
    this.slots.delete(kind)
  }

  clearAll(): void {
    for (const kind of [...this.slots.keys()]) this.clear(kind)
  }

  has(kind: K): boolean {
    return this.slots.has(kind)
  }
}
