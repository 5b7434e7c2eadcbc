import { describe, expect, it } from 'vitest'
import { spansOf } from './day.js'
import { stripLabel } from './strip.js'

describe('stripLabel', () => {
  it('says how long each state lasted, longest first, leaving out the states that did not occur', () => {
    const now = Date.parse('2025-01-02T00:00:00.000Z')
    const spans = spansOf(
      [
        { at: '2025-01-01T23:00:00.000Z', state: 'connected' },
        { at: '2025-01-01T22:58:30.000Z', state: 'connecting' },
        { at: '2025-01-01T12:00:00.000Z', state: 'connected' },
      ],
      now,
    )
    expect(stripLabel(spans)).toBe('no record 12h 00m, connected 11h 58m, connecting 1m 30s')
  })
})
