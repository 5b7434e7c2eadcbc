/**
 * @module ChangeRing: the most recent frames of one account stream, bounded by count. Resume is
 * served from here when it can be, from the SQLite change log otherwise.
 */

export interface Change {
  seq: number
  instanceId: number
  /** Epoch milliseconds. */
  at: number
  /** The frame JSON, serialised once and shared by every subscriber and by the change log. */
  frame: string
}

export class ChangeRing {
  private readonly items: (Change | undefined)[]
  private start = 0
  private length = 0

  constructor(readonly capacity: number) {
    this.items = new Array(capacity)
  }

  push(c: Change): void {
    if (this.length < this.capacity) {
      this.items[(this.start + this.length) % this.capacity] = c
      this.length++
    } else {
      this.items[this.start] = c
      this.start = (this.start + 1) % this.capacity
    }
  }

  /** Seq of the oldest change kept, or null when empty. */
  oldestSeq(): number | null {
    return this.length === 0 ? null : this.items[this.start]!.seq
  }

  /** Changes with seq > afterSeq, in order; null when the ring no longer holds afterSeq + 1. */
  since(afterSeq: number): Change[] | null {
    const oldest = this.oldestSeq()
    if (oldest === null || oldest > afterSeq + 1) return null
    const out: Change[] = []
    for (let i = 0; i < this.length; i++) {
      const c = this.items[(this.start + i) % this.capacity]!
      if (c.seq > afterSeq) out.push(c)
    }
    return out
  }

  clear(): void {
    this.items.fill(undefined)
    this.start = 0
    this.length = 0
  }
}
