import { describe, expect, it } from 'vitest'
import { DAY_MS, spansOf, totals, uptimeOf } from './day.js'

const NOW = Date.parse('2025-01-02T12:00:00.000Z')
const H = 3_600_000
const ago = (h: number) => new Date(NOW - h * H).toISOString()

describe('the day as spans', () => {
  it('covers the window oldest first; before the oldest entry nothing is known', () => {
    const history = [
      { at: ago(1), state: 'connected' as const },
      { at: ago(2), state: 'connecting' as const },
      { at: ago(6), state: 'connected' as const },
    ]
    expect(spansOf(history, NOW)).toEqual([
      { state: null, from: NOW - 24 * H, to: NOW - 6 * H },
      { state: 'connected', from: NOW - 6 * H, to: NOW - 2 * H },
      { state: 'connecting', from: NOW - 2 * H, to: NOW - 1 * H },
      { state: 'connected', from: NOW - 1 * H, to: NOW },
    ])
  })

  it('clips an entry older than the window to its start, and merges neighbours of one state', () => {
    const history = [
      { at: ago(3), state: 'connected' as const },
      { at: ago(30), state: 'connected' as const },
    ]
    expect(spansOf(history, NOW)).toEqual([{ state: 'connected', from: NOW - 24 * H, to: NOW }])
  })

  it('keeps the order of entries at the same instant (the newer one wins)', () => {
    const t = ago(1)
    const history = [
      { at: t, state: 'connected' as const },
      { at: t, state: 'connecting' as const },
      { at: ago(2), state: 'connecting' as const },
    ]
    expect(spansOf(history, NOW, 3 * H).map((s) => s.state)).toEqual([null, 'connecting', 'connected'])
  })

  it('is all unknown without history, and ignores unreadable times', () => {
    expect(spansOf([{ at: 'nonsense', state: 'connected' }], NOW)).toEqual([{ state: null, from: NOW - DAY_MS, to: NOW }])
  })
})

describe('uptime', () => {
  it('is the connected share of the known part of the window', () => {
    const history = [
      { at: ago(1), state: 'connected' as const },
      { at: ago(2), state: 'disconnected' as const },
      { at: ago(4), state: 'connected' as const },
    ]
    expect(uptimeOf(history, NOW)).toEqual({ share: 0.75, connectedMs: 3 * H, windowMs: 4 * H })
    expect(uptimeOf([{ at: ago(48), state: 'connected' }], NOW)).toEqual({ share: 1, connectedMs: DAY_MS, windowMs: DAY_MS })
    expect(uptimeOf([], NOW)).toEqual({ share: null, connectedMs: 0, windowMs: 0 })
  })

  it('totals the time per state', () => {
    expect(totals(spansOf([{ at: ago(2), state: 'loggedout' }], NOW))).toEqual({ connected: 0, connecting: 0, disconnected: 0, loggedout: 2 * H, none: 22 * H })
  })
})
