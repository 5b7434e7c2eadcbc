/**
 * @module ChangeRing: the most recent changes of one account stream, bounded by count and by age.
 * Resume is served from here when it can be, from the store's change log otherwise.
 */
import type { Change } from '../ports/bus.js'

export interface RingAge {
  /** Changes older than this are no longer kept (HUB_CHANGELOG_MAX_AGE_S, in milliseconds). */
  maxAgeMs: number
  /** Epoch milliseconds; the hub's clock. */
  now: () => number
}

const AGELESS: RingAge = { maxAgeMs: Infinity, now: () => 0 }

/** Changes with `at` before this are past the age bound. */
export function cutoffOf(age: RingAge): number {
  return age.now() - age.maxAgeMs
}

export class ChangeRing {
  // Grows to `capacity` as changes arrive: an account with few changes holds a small array, not
  // `capacity` empty slots. Until it is full, the kept changes fill [start, items.length).
  private readonly items: (Change | undefined)[] = []
  private start = 0
  private length = 0

  constructor(
    readonly capacity: number,
    private readonly age: RingAge = AGELESS,
  ) {}

  push(c: Change): void {
    this.expire()
    if (this.length < this.capacity) {
      const at = (this.start + this.length) % this.capacity
      if (at === this.items.length) this.items.push(c)
      else this.items[at] = c
      this.length++
    } else {
      this.items[this.start] = c
      this.start = (this.start + 1) % this.capacity
    }
  }

  /** Seq of the oldest change kept, or null when none is. */
  oldestSeq(): number | null {
    this.expire()
    return this.length === 0 ? null : this.items[this.start]!.seq
  }

  /**
   * Up to `limit` changes with seq > afterSeq, in order; null when the ring no longer holds
   * afterSeq + 1, or when one of them is past the age bound (a clock set back can leave one behind
   * a newer one). The kept changes are contiguous, so the first one is found by index: a page
   * costs its own length, not the ring's.
   */
  since(afterSeq: number, limit = Infinity): Change[] | null {
    const oldest = this.oldestSeq()
    if (oldest === null || oldest > afterSeq + 1) return null
    const cutoff = this.cutoff()
    const out: Change[] = []
    for (let i = Math.max(0, afterSeq + 1 - oldest); i < this.length && out.length < limit; i++) {
      const c = this.items[(this.start + i) % this.capacity]!
      if (c.at < cutoff || c.seq !== afterSeq + 1 + out.length) return null
      out.push(c)
    }
    return out
  }

  clear(): void {
    this.items.length = 0
    this.start = 0
    this.length = 0
  }

  private cutoff(): number {
    return cutoffOf(this.age)
  }

  /** Forgets the changes at the old end that are past the age bound. */
  private expire(): void {
    if (this.age.maxAgeMs === Infinity) return
    const cutoff = this.cutoff()
    while (this.length > 0 && this.items[this.start]!.at < cutoff) {
      this.items[this.start] = undefined
      this.start = (this.start + 1) % this.capacity
      this.length--
    }
  }
}
