import { describe, expect, it } from 'vitest'
import { AccountBudget } from './budget.js'

describe('AccountBudget', () => {
  it('allows perSec operations per account per second, each account on its own', () => {
    const clock = { now: () => 10_000 }
    const b = new AccountBudget(2, clock)
    expect([b.take(1), b.take(1), b.take(1), b.take(2), b.take(2), b.take(2)]).toEqual([true, true, false, true, true, false])
  })

  it('counts costs, and always lets the first operation of a window through, however costly', () => {
    const b = new AccountBudget(100, { now: () => 0 })
    expect([b.take(1, 60), b.take(1, 50), b.take(1, 40)]).toEqual([true, false, true])
    expect([b.take(2, 500), b.take(2, 1)]).toEqual([true, false])
  })

  it('lets a cost known afterwards be charged past the budget, so the next operation waits', () => {
    const b = new AccountBudget(100, { now: () => 0 })
    expect(b.allows(1)).toBe(true)
    b.charge(1, 250)
    expect(b.allows(1)).toBe(false)
    expect(b.allows(2)).toBe(true)
  })

  it('starts a fresh window each second', () => {
    let t = 10_999
    const b = new AccountBudget(1, { now: () => t })
    expect(b.take(1)).toBe(true)
    expect(b.take(1)).toBe(false)
    t = 11_000
    expect(b.take(1)).toBe(true)
  })
})
