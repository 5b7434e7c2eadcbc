import { describe, expect, it } from 'vitest'
import { changedText, clockText, duration, historySyncText, percentText, phoneText, reasonText, reasonTitle, retryText, sinceText, syncedText, syncText, whenText } from './format.js'

const NOW = Date.parse('2025-01-01T12:00:00.000Z')

describe('duration', () => {
  it('uses seconds under a minute, then minutes, hours and days with a zero-padded second unit', () => {
    expect([0, 59_999, 65_000, 3_599_000, 3_600_000 + 3 * 60_000, 86_400_000 * 3 + 4 * 3_600_000].map(duration)).toEqual([
      '0s',
      '59s',
      '1m 05s',
      '59m 59s',
      '1h 03m',
      '3d 4h',
    ])
  })

  it('reads a negative span as 0s', () => {
    expect(duration(-5000)).toBe('0s')
  })
})

describe('retryText', () => {
  it('counts down to a future retryAt, rounding up to whole seconds', () => {
    expect(retryText('2025-01-01T12:00:04.200Z', NOW)).toBe('retry in 5s')
    expect(retryText('2025-01-01T12:00:04.000Z', NOW)).toBe('retry in 4s')
  })

  it('says retrying… once the time has passed, and nothing without a retry', () => {
    expect([retryText('2025-01-01T11:59:59.000Z', NOW), retryText(null, NOW), retryText('nonsense', NOW)]).toEqual(['retrying…', '', ''])
  })
})

describe('sinceText', () => {
  it('says how long the state has lasted', () => {
    expect(sinceText('2025-01-01T11:56:55.000Z', NOW)).toBe('for 3m 05s')
  })
})

describe('reasonText', () => {
  it('joins code, name and message', () => {
    expect(reasonText({ code: 428, name: 'connectionClosed', message: 'Connection Terminated' })).toBe('428 connectionClosed: Connection Terminated')
  })

  it('leaves out a null code and an empty message, and is empty without a reason', () => {
    expect([reasonText({ code: null, name: 'stopped', message: '' }), reasonText(null)]).toEqual(['stopped', ''])
  })
})

describe('phoneText', () => {
  it('shows the digits of a JID with a plus, ignoring the device suffix', () => {
    expect([phoneText('5511999999999:12@s.whatsapp.net'), phoneText(null), phoneText('abc@g.us')]).toEqual(['+5511999999999', '', ''])
  })
})

describe('clockText', () => {
  it('shows local hours, minutes and seconds', () => {
    expect(clockText(new Date(2025, 0, 1, 9, 3, 7).toISOString())).toBe('09:03:07')
  })
})

describe('changedText', () => {
  it('says how long ago the item last changed, never in the future', () => {
    expect(changedText('2025-01-01T11:59:56.000Z', NOW)).toBe('changed 4s ago')
    expect(changedText('2025-01-01T12:00:09.000Z', NOW)).toBe('changed 0s ago')
    expect(changedText(null, NOW)).toBe('')
  })
})

describe('percentText', () => {
  it('shows one decimal, rounds down so that 100% means all of it, and a dash when unknown', () => {
    expect([percentText(1), percentText(0.99999), percentText(0.75), percentText(0.0004), percentText(0), percentText(null)]).toEqual(['100%', '99.9%', '75.0%', '0.0%', '0%', '–'])
  })
})

describe('whenText', () => {
  it('shows the clock time within a day, and the date before it', () => {
    const now = new Date(2025, 0, 3, 12, 0, 0).getTime()
    expect(whenText(new Date(2025, 0, 3, 1, 2, 3).toISOString(), now)).toBe('01:02:03')
    expect(whenText(new Date(2025, 0, 1, 1, 2, 3).toISOString(), now)).toBe('2025-01-01 01:02:03')
  })
})

describe('the monitor signals: synced, history sync, close detail', () => {
  it('says syncing… only for a connected number whose offline backlog has not arrived', () => {
    expect([
      syncText({ state: 'connected', synced: false }),
      syncText({ state: 'connected', synced: true }),
      syncText({ state: 'connecting', synced: false }),
    ]).toEqual(['syncing…', '', ''])
    expect([
      syncedText({ state: 'connected', synced: true }),
      syncedText({ state: 'connected', synced: false }),
      syncedText({ state: 'disconnected', synced: false }),
    ]).toEqual(['yes, the offline backlog arrived', 'not yet: syncing… (the offline backlog is still arriving)', ''])
  })

  it('words history sync progress, and nothing while it is off', () => {
    expect([historySyncText({ progress: 45, isLatest: false }), historySyncText({ progress: null, isLatest: true }), historySyncText(null)]).toEqual([
      '45%',
      'in progress (first sync since pairing)',
      '',
    ])
  })

  it("puts the close's own detail after the reason and the status in the reason's tooltip", () => {
    const reason = { code: 440, name: 'connectionReplaced', message: 'Stream Errored (conflict)' }
    expect(reasonTitle({ reason, displayStatus: 'Disconnected (connection replaced)', closeDetail: 'conflict:replaced' })).toBe(
      '440 connectionReplaced: Stream Errored (conflict) — Disconnected (connection replaced) — detail: conflict:replaced',
    )
    expect(reasonTitle({ reason: null, displayStatus: 'Online', closeDetail: null })).toBe('Online')
  })
})
