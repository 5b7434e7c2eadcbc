import { describe, expect, it } from 'vitest'
import type { Change } from '../ports/bus.js'
import { ChangeRing } from './change-ring.js'

const T0 = 1_700_000_000_000
const change = (seq: number, at: number): Change => ({ seq, instanceId: 1, instance: 'a', kind: 'diff', at, frame: `{"seq":${seq}}` })
const seqsOf = (cs: Change[] | null) => cs?.map((c) => c.seq) ?? null

/** A ring of `capacity` whose clock the test sets; changes older than `maxAgeMs` expire. */
function ring(capacity: number, maxAgeMs?: number) {
  const clock = { now: T0 }
  const r = maxAgeMs === undefined ? new ChangeRing(capacity) : new ChangeRing(capacity, { maxAgeMs, now: () => clock.now })
  return { r, clock }
}

describe('ChangeRing', () => {
  describe('count bound', () => {
    it('serves every change after a position it still holds, in order', () => {
      const { r } = ring(5)
      for (let s = 1; s <= 4; s++) r.push(change(s, T0))
      expect(seqsOf(r.since(0))).toEqual([1, 2, 3, 4])
      expect(seqsOf(r.since(2))).toEqual([3, 4])
      expect(seqsOf(r.since(4))).toEqual([])
    })

    it('keeps only the newest `capacity` changes and refuses a position before them', () => {
      const { r } = ring(3)
      for (let s = 1; s <= 7; s++) r.push(change(s, T0))
      expect(r.oldestSeq()).toBe(5)
      expect(r.since(3)).toBeNull()
      expect(seqsOf(r.since(4))).toEqual([5, 6, 7])
    })

    it('keeps changes of any age when built without an age bound', () => {
      const { r, clock } = ring(3)
      r.push(change(1, T0))
      clock.now = T0 + 365 * 86_400_000
      expect(seqsOf(r.since(0))).toEqual([1])
    })
  })

  describe('age bound', () => {
    it('serves a change exactly as old as the bound', () => {
      const { r, clock } = ring(10, 1000)
      r.push(change(1, T0))
      r.push(change(2, T0 + 500))
      clock.now = T0 + 1000
      expect(seqsOf(r.since(0))).toEqual([1, 2])
      expect(r.oldestSeq()).toBe(1)
    })

    it('refuses a position whose next change is older than the bound, though the count would still hold it', () => {
      const { r, clock } = ring(10, 1000)
      r.push(change(1, T0))
      r.push(change(2, T0 + 500))
      r.push(change(3, T0 + 900))
      clock.now = T0 + 1001
      expect(r.since(0)).toBeNull()
      expect(r.oldestSeq()).toBe(2)
      expect(seqsOf(r.since(1))).toEqual([2, 3])
      clock.now = T0 + 1901
      expect(r.since(1)).toBeNull()
      expect(r.since(2)).toBeNull()
      expect(r.oldestSeq()).toBeNull()
    })

    it('drops expired changes when a new one is pushed', () => {
      const { r, clock } = ring(3, 1000)
      r.push(change(1, T0))
      r.push(change(2, T0))
      clock.now = T0 + 5000
      r.push(change(3, T0 + 5000))
      expect(r.oldestSeq()).toBe(3)
      expect(seqsOf(r.since(2))).toEqual([3])
      r.push(change(4, T0 + 5000))
      r.push(change(5, T0 + 5000))
      expect(seqsOf(r.since(2))).toEqual([3, 4, 5])
    })

    it('refuses a range holding a change older than the bound behind a newer one (a clock set back)', () => {
      const { r, clock } = ring(10, 1000)
      r.push(change(1, T0 + 2000))
      r.push(change(2, T0))
      r.push(change(3, T0 + 2000))
      clock.now = T0 + 2500
      expect(r.oldestSeq()).toBe(1)
      expect(r.since(0)).toBeNull()
      expect(seqsOf(r.since(2))).toEqual([3])
    })
  })

  it('answers like a plain list of the newest changes, whatever mix of pushes, expiries and wraps', () => {
    let seed = 7
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const { r, clock } = ring(8, 1000)
    let kept: Change[] = []
    for (let s = 1; s <= 500; s++) {
      clock.now += Math.floor(random() * 300)
      const c = change(s, clock.now)
      r.push(c)
      kept = [...kept, c].filter((k) => k.at >= clock.now - 1000).slice(-8)
      const from = s - 1 - Math.floor(random() * 10)
      const expected = kept.length > 0 && kept[0]!.seq <= from + 1 ? kept.filter((k) => k.seq > from) : null
      expect(seqsOf(r.since(from))).toEqual(seqsOf(expected))
    }
  })
})


describe('ChangeRing pages', () => {
  it('serves a page of at most `limit` changes from any position it holds', () => {
    const r = new ChangeRing(100)
    for (let s = 1; s <= 50; s++) r.push(change(s, T0))
    expect(seqsOf(r.since(10, 3))).toEqual([11, 12, 13])
    expect(seqsOf(r.since(48, 10))).toEqual([49, 50])
    expect(seqsOf(r.since(50, 10))).toEqual([])
  })

  it('pages correctly after wrapping around', () => {
    const r = new ChangeRing(4)
    for (let s = 1; s <= 10; s++) r.push(change(s, T0))
    expect(seqsOf(r.since(6, 2))).toEqual([7, 8])
    expect(seqsOf(r.since(8, 5))).toEqual([9, 10])
    expect(r.since(5, 2)).toBeNull()
  })
})
