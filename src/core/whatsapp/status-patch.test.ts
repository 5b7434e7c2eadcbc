import { describe, expect, it } from 'vitest'
import { connectionStateOf, displayStatusOf, eventWordOf, toStatusPatch } from './status-patch.js'
import { initialMachine, type LastClose, type MachineState, type Phase } from './machine-state.js'

const lost: LastClose = { code: 408, name: 'connectionLost', message: 'Connection was lost', label: 'connection lost' }
const forbidden: LastClose = { code: 403, name: 'forbidden', message: 'Connection Failure', label: 'forbidden' }

function state(phase: Phase, extra: Partial<MachineState> = {}): MachineState {
  return { ...initialMachine(), phase, ...extra }
}

const DUE = Date.parse('2026-03-01T12:00:01.500Z')

describe('connectionStateOf', () => {
  it.each<[Phase, string]>([
    ['OPEN', 'connected'],
    ['CONNECTING', 'connecting'],
    ['AWAITING_QR', 'connecting'],
    ['PAIRED_RESTARTING', 'connecting'],
    ['RECONNECT_WAIT', 'connecting'],
    ['QR_EXPIRED', 'disconnected'],
    ['CONFLICT', 'disconnected'],
    ['BLOCKED', 'disconnected'],
    ['NEEDS_UPDATE', 'disconnected'],
    ['NEEDS_ATTENTION', 'disconnected'],
    ['STOPPED', 'disconnected'],
    ['LOGGED_OUT', 'loggedout'],
  ])('maps %s without a scheduled retry to %s', (phase, expected) => {
    expect(connectionStateOf(state(phase))).toBe(expected)
  })

  it.each<Phase>(['NEEDS_UPDATE', 'CONNECTING', 'RECONNECT_WAIT'])('maps %s with a scheduled retry to connecting', (phase) => {
    expect(connectionStateOf(state(phase, { dueAt: DUE }))).toBe('connecting')
  })
})

describe('displayStatusOf', () => {
  it.each<[MachineState, string]>([
    [state('OPEN'), 'Online'],
    [state('CONNECTING'), 'Connecting…'],
    [state('PAIRED_RESTARTING'), 'Connecting…'],
    [state('AWAITING_QR', { qr: 'q' }), 'Waiting for QR scan'],
    [state('AWAITING_QR', { qr: 'q', pairingCode: 'ABCD1234' }), 'Waiting for pairing code'],
    [state('RECONNECT_WAIT', { attempt: 2, lastClose: lost }), 'Reconnecting (connection lost), attempt 2'],
    [state('QR_EXPIRED'), 'Disconnected (QR expired)'],
    [state('CONFLICT'), 'Disconnected (connection replaced)'],
    [state('BLOCKED', { lastClose: forbidden }), 'Blocked (forbidden)'],
    [state('NEEDS_UPDATE'), 'Needs update (client too old)'],
    [state('NEEDS_UPDATE', { dueAt: DUE }), 'Needs update (client too old), retrying'],
    [state('LOGGED_OUT'), 'Logged out'],
    [state('STOPPED'), 'Disconnected (stopped)'],
  ])('renders %#: %s', (s, text) => {
    expect(displayStatusOf(s)).toBe(text)
  })
})

describe('toStatusPatch', () => {
  it('leaves number and profile out while the account is unknown', () => {
    expect(toStatusPatch(state('CONNECTING'))).toEqual({
      state: 'connecting',
      reason: null,
      displayStatus: 'Connecting…',
      event: 'connecting',
      retryAt: null,
      presenceStatus: 'unavailable',
    })
  })

  it('derives isBusiness from a business platform before any profile fetch', () => {
    const s = state('OPEN', { me: { jid: '1@s.whatsapp.net', name: 'Shop' }, platform: 'smba', online: true })
    expect(toStatusPatch(s)).toMatchObject({
      presenceStatus: 'available',
      numberJid: '1@s.whatsapp.net',
      profile: { name: 'Shop', isBusiness: true, businessName: 'Shop' },
    })
  })

  it.each<[string, MachineState, string | null]>([
    ['a backoff wait', state('RECONNECT_WAIT', { dueAt: DUE, attempt: 1, lastClose: lost }), '2026-03-01T12:00:01.500Z'],
    ['a 515 restart', state('CONNECTING', { dueAt: DUE }), '2026-03-01T12:00:01.500Z'],
    ['the 405 retry', state('NEEDS_UPDATE', { dueAt: DUE }), '2026-03-01T12:00:01.500Z'],
    ['a live socket', state('CONNECTING', { live: true }), null],
    ['a final 405', state('NEEDS_UPDATE'), null],
  ])('sets retryAt for %s to %s', (_, s, retryAt) => {
    expect(toStatusPatch(s).retryAt).toBe(retryAt)
  })

  it('publishes a 405 with its retry pending as connecting, and a final one as disconnected', () => {
    const tooOld: LastClose = { code: 405, name: 'clientTooOld', message: 'Connection Failure', label: 'client too old' }
    expect(toStatusPatch(state('NEEDS_UPDATE', { dueAt: DUE, lastClose: tooOld }))).toEqual({
      state: 'connecting',
      reason: { code: 405, name: 'clientTooOld', message: 'Connection Failure' },
      displayStatus: 'Needs update (client too old), retrying',
      event: 'client_outdated',
      retryAt: '2026-03-01T12:00:01.500Z',
      presenceStatus: 'unavailable',
    })
    expect(toStatusPatch(state('NEEDS_UPDATE', { lastClose: tooOld }))).toEqual({
      state: 'disconnected',
      reason: { code: 405, name: 'clientTooOld', message: 'Connection Failure' },
      displayStatus: 'Needs update (client too old)',
      event: 'client_outdated',
      retryAt: null,
      presenceStatus: 'unavailable',
    })
  })

  it('reports presence as unavailable outside OPEN even when Baileys said online', () => {
    expect(toStatusPatch(state('CONNECTING', { online: true })).presenceStatus).toBe('unavailable')
  })
})

describe('eventWordOf', () => {
  const close = (code: number | null, name: string): LastClose => ({ code, name, message: '', label: '' })
  // The webhooks contract's table: the close's word wins over "connecting" while a retry is scheduled.
  it.each([
    ['OPEN', {}, 'connected'],
    ['OPEN', { lastClose: close(408, 'connectionLost') }, 'keepalive_restored'],
    ['OPEN', { lastClose: close(428, 'connectionClosed') }, 'connected'],
    ['CONNECTING', { live: true }, 'connecting'],
    ['CONNECTING', { live: false, dueAt: DUE }, 'pair_success'],
    ['PAIRED_RESTARTING', {}, 'pair_success'],
    ['AWAITING_QR', {}, 'qr_ready'],
    ['RECONNECT_WAIT', { lastClose: close(428, 'connectionClosed') }, 'connecting'],
    ['RECONNECT_WAIT', { lastClose: close(503, 'unavailableService') }, 'connecting'],
    ['RECONNECT_WAIT', { lastClose: close(408, 'connectionLost') }, 'keepalive_timeout'],
    ['RECONNECT_WAIT', { lastClose: close(440, 'connectionReplaced') }, 'stream_replaced'],
    ['RECONNECT_WAIT', { lastClose: close(500, 'badSession') }, 'stream_error'],
    ['CONFLICT', { lastClose: close(440, 'connectionReplaced') }, 'stream_replaced'],
    ['NEEDS_ATTENTION', { lastClose: close(500, 'badSession') }, 'stream_error'],
    ['NEEDS_ATTENTION', { lastClose: close(411, 'multideviceMismatch') }, 'connect_failure'],
    ['BLOCKED', { lastClose: close(402, 'temporarilyBanned') }, 'temp_banned'],
    ['BLOCKED', { lastClose: close(403, 'forbidden') }, 'connect_failure'],
    ['BLOCKED', { lastClose: close(406, 'banned') }, 'connect_failure'],
    ['NEEDS_UPDATE', { lastClose: close(405, 'clientTooOld') }, 'client_outdated'],
    ['QR_EXPIRED', { lastClose: close(408, 'qrExpired') }, 'disconnected'],
    ['STOPPED', {}, 'disconnected'],
    ['LOGGED_OUT', { lastClose: close(401, 'loggedOut') }, 'logged_out'],
  ] as [Phase, Partial<MachineState>, string][])('%s with %j says %s', (phase, fields, word) => {
    expect(eventWordOf(state(phase, fields))).toBe(word)
  })
})
