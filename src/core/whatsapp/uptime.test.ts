import { describe, expect, it } from 'vitest'
import { DAY_MS, uptimeOf } from './uptime.js'

const NOW = Date.parse('2026-03-02T12:00:00.000Z')
const H = 3_600_000

describe('uptimeOf', () => {
  it('counts the connected share of the last 24 h, taking the state at the window start from the row before it', () => {
    const rows = [
      { at: NOW - 30 * H, state: 'connected' as const },
      { at: NOW - 6 * H, state: 'connecting' as const },
      { at: NOW - 5 * H, state: 'connected' as const },
    ]
    expect(uptimeOf(rows, NOW - 40 * H, NOW)).toEqual({ share24h: 0.9583, connectedMs: 23 * H, windowMs: DAY_MS })
  })

  it('uses the time since creation for an instance younger than a day', () => {
    const rows = [
      { at: NOW - 2 * H, state: 'disconnected' as const },
      { at: NOW - H, state: 'connected' as const },
    ]
    expect(uptimeOf(rows, NOW - 2 * H, NOW)).toEqual({ share24h: 0.5, connectedMs: H, windowMs: 2 * H })
  })

  it('counts time before the first known row as not connected, and an empty history as zero', () => {
    expect(uptimeOf([{ at: NOW - H, state: 'connected' }], NOW - 10 * H, NOW)).toEqual({ share24h: 0.1, connectedMs: H, windowMs: 10 * H })
    expect(uptimeOf([], NOW - 10 * H, NOW)).toEqual({ share24h: 0, connectedMs: 0, windowMs: 10 * H })
  })

  it('answers 1 or 0 for an instance created this very millisecond', () => {
    expect(uptimeOf([{ at: NOW, state: 'connected' }], NOW, NOW)).toEqual({ share24h: 1, connectedMs: 0, windowMs: 0 })
    expect(uptimeOf([{ at: NOW, state: 'disconnected' }], NOW, NOW)).toEqual({ share24h: 0, connectedMs: 0, windowMs: 0 })
  })
})
