import { describe, expect, it } from 'vitest'
import { connectionStateOf, displayStatusOf, eventWordOf, toStatusPatch } from './status-patch.js'
import { initialMachine, type LastClose, type MachineState, type Phase } from './machine-state.js'

const lost: LastClose = { code: 408, name: 'connectionLost', message: 'Connection was lost', label: 'connection lost', detail: null }
const forbidden: LastClose = { code: 403, name: 'forbidden', message: 'Connection Failure', label: 'forbidden', detail: null }

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
    [
      state('LOGGED_OUT', { lastClose: { code: null, name: 'logoutUnconfirmed', message: 'x', label: 'logged out', detail: null } }),
      'Logged out (unlink not sent: the phone may still list this device)',
    ],
    [
      state('RECONNECT_WAIT', {
        dueAt: DUE,
        retryDelayMs: 8_000,
        lastClose: { code: 408, name: 'unreachable', message: 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)', label: "Can't reach WhatsApp", detail: null },
      }),
      "Can't reach WhatsApp (getaddrinfo ENOTFOUND web.whatsapp.com), retrying in 8s",
    ],
    [state('CONFLICT', { dueAt: DUE, retryDelayMs: 1_800_000 }), 'Connection replaced by another client, retrying in 30 min'],
    [state('NEEDS_ATTENTION', { dueAt: DUE, retryDelayMs: 3_600_000, lastClose: { ...lost, label: 'bad session' } }), 'Needs attention (bad session), retrying in 1 h'],
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
      synced: false,
      historySync: null,
      closeDetail: null,
    })
  })

  it('derives isBusiness from a business platform and never fills businessName with the push name', () => {
    const s = state('OPEN', { me: { jid: '1@s.whatsapp.net', name: 'Shop' }, platform: 'smba', online: true })
    expect(toStatusPatch(s)).toMatchObject({ presenceStatus: 'available', numberJid: '1@s.whatsapp.net' })
    expect(toStatusPatch(s).profile).toEqual({ name: 'Shop', isBusiness: true })
    expect(toStatusPatch({ ...s, businessName: 'Shop Ltd' }).profile).toEqual({ name: 'Shop', isBusiness: true, businessName: 'Shop Ltd' })
    expect(toStatusPatch({ ...s, platform: 'android', businessName: 'stale' }).profile).toEqual({ name: 'Shop', isBusiness: false, businessName: '' })
  })

  it('publishes synced only while open, and the close detail only while not', () => {
    const detail: LastClose = { code: 440, name: 'connectionReplaced', message: 'Stream Errored (conflict)', label: 'connection replaced', detail: 'conflict:replaced' }
    expect(toStatusPatch(state('OPEN', { synced: true, lastClose: detail }))).toMatchObject({ synced: true, closeDetail: null, reason: null })
    expect(toStatusPatch(state('RECONNECT_WAIT', { synced: true, lastClose: detail, dueAt: DUE }))).toMatchObject({
      synced: false,
      closeDetail: 'conflict:replaced',
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
    const tooOld: LastClose = { code: 405, name: 'clientTooOld', message: 'Connection Failure', label: 'client too old', detail: null }
    expect(toStatusPatch(state('NEEDS_UPDATE', { dueAt: DUE, lastClose: tooOld }))).toEqual({
      state: 'connecting',
      reason: { code: 405, name: 'clientTooOld', message: 'Connection Failure' },
      displayStatus: 'Needs update (client too old), retrying',
      event: 'client_outdated',
      retryAt: '2026-03-01T12:00:01.500Z',
      presenceStatus: 'unavailable',
      synced: false,
      historySync: null,
      closeDetail: null,
    })
    expect(toStatusPatch(state('NEEDS_UPDATE', { lastClose: tooOld }))).toEqual({
      state: 'disconnected',
      reason: { code: 405, name: 'clientTooOld', message: 'Connection Failure' },
      displayStatus: 'Needs update (client too old)',
      event: 'client_outdated',
      retryAt: null,
      presenceStatus: 'unavailable',
      synced: false,
      historySync: null,
      closeDetail: null,
    })
  })

  it('reports presence as unavailable outside OPEN even when Baileys said online', () => {
    expect(toStatusPatch(state('CONNECTING', { online: true })).presenceStatus).toBe('unavailable')
  })
})

describe('eventWordOf (the webhooks contract table)', () => {
  const close = (name: string, code: number | null = null): LastClose => ({ code, name, message: 'm', label: 'l', detail: null })
  it.each<[string, MachineState, string]>([
    ['socket open', state('OPEN'), 'connected'],
    ['open after a keep-alive loss', state('OPEN', { lastClose: close('connectionLost', 408) }), 'keepalive_restored'],
    ['open after a silent socket', state('OPEN', { lastClose: close('silent') }), 'keepalive_restored'],
    ['socket starting', state('CONNECTING', { live: true }), 'connecting'],
    ['socket started by the reconnect endpoint', state('CONNECTING', { live: true, manual: true }), 'manual_reconnect'],
    ['retry after unreachable', state('RECONNECT_WAIT', { dueAt: DUE, lastClose: close('unreachable', 408) }), 'connecting'],
    ['retry after a TLS error (a 500)', state('RECONNECT_WAIT', { dueAt: DUE, lastClose: close('tlsError', 500) }), 'connecting'],
    ['retry after an unreachable proxy', state('RECONNECT_WAIT', { dueAt: DUE, lastClose: close('proxyUnreachable', 500) }), 'connecting'],
    ['retry after a keep-alive loss', state('RECONNECT_WAIT', { dueAt: DUE, lastClose: close('connectionLost', 408) }), 'keepalive_timeout'],
    ['retry after a silent socket', state('RECONNECT_WAIT', { dueAt: DUE, lastClose: close('silent') }), 'keepalive_timeout'],
    ['retry after 440', state('RECONNECT_WAIT', { dueAt: DUE, lastClose: close('connectionReplaced', 440) }), 'stream_replaced'],
    ['parked 440', state('CONFLICT', { dueAt: DUE, lastClose: close('connectionReplaced', 440) }), 'stream_replaced'],
    ['a stream error', state('RECONNECT_WAIT', { dueAt: DUE, lastClose: close('badSession', 500) }), 'stream_error'],
    ['a failed pairing', state('RECONNECT_WAIT', { dueAt: DUE, lastClose: close('pairError', 500) }), 'pair_error'],
    ['515 restart after pairing', state('CONNECTING', { dueAt: DUE, lastClose: close('restartRequired', 515) }), 'pair_success'],
    ['QR waiting', state('AWAITING_QR'), 'qr_ready'],
    ['QR expired', state('QR_EXPIRED', { lastClose: close('qrExpired', 408) }), 'disconnected'],
    ['logged out', state('LOGGED_OUT'), 'logged_out'],
    ['402', state('BLOCKED', { lastClose: close('temporarilyBanned', 402) }), 'temp_banned'],
    ['403', state('BLOCKED', { lastClose: close('forbidden', 403) }), 'connect_failure'],
    ['405', state('NEEDS_UPDATE'), 'client_outdated'],
    ['406', state('BLOCKED', { lastClose: close('banned', 406) }), 'connect_failure'],
    ['411', state('NEEDS_ATTENTION', { lastClose: close('multideviceMismatch', 411) }), 'connect_failure'],
    ['parked after stream errors', state('NEEDS_ATTENTION', { dueAt: DUE, lastClose: close('badSession', 500) }), 'stream_error'],
    ['parked with another close', state('NEEDS_ATTENTION', { lastClose: close('connectionClosed', 428) }), 'disconnected'],
    ['stopped', state('STOPPED', { lastClose: close('stopped') }), 'disconnected'],
    ['stopped after a keep-alive loss', state('STOPPED', { lastClose: close('connectionLost', 408) }), 'disconnected'],
  ])('%s: %s', (_, s, word) => {
    expect(eventWordOf(s)).toBe(word)
  })
})
