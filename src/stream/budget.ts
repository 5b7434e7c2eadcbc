/**
 * @module A per-account budget: at most `perSec` units of a costly operation (bytes of snapshots
 * and list renders, replays from the change log) per account per one-second window, so one
 * tenant's load is paid by that tenant. Fixed windows on the injected clock; one small entry per
 * account that used it.
 */
import type { Clock } from '../ports/clock.js'

export class AccountBudget {
  private readonly windows = new Map<number, { start: number; used: number }>()

  constructor(
    readonly perSec: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Spends `cost` units of the account's current window; false when they do not fit. A fresh
   * window always allows one operation, however costly, so a large account is slowed, never shut out.
   */
  take(accountId: number, cost = 1): boolean {
    const w = this.window(accountId)
    if (w.used > 0 && w.used + cost > this.perSec) return false
    w.used += cost
    return true
  }

  /** Whether the account's current window has anything left (for a cost known only afterwards). */
  allows(accountId: number): boolean {
    return this.window(accountId).used < this.perSec
  }

  /** Records a cost already spent, even past the budget: the next operation then waits. */
  charge(accountId: number, cost: number): void {
    this.window(accountId).used += cost
  }

  private window(accountId: number): { start: number; used: number } {
    const now = this.clock.now()
    const start = now - (now % 1000)
    let w = this.windows.get(accountId)
    if (w === undefined || w.start !== start) {
      // Past windows are dropped as the map is touched, so it holds only recently active accounts.
      if (this.windows.size > 10_000) this.windows.clear()
      w = { start, used: 0 }
      this.windows.set(accountId, w)
    }
    return w
  }
}
