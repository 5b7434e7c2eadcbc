/**
 * @module Renders the machine state as the hub's status patch. Every field is derived from stored
 * state (never from the clock), so the list and the stream agree.
 */
import type { ConnectionState, EventWord, Profile, StatusPatch } from '../status.js'
import type { MachineState, Phase } from './machine-state.js'

const CONNECTION_STATE: Record<Phase, ConnectionState> = {
  OPEN: 'connected',
  CONNECTING: 'connecting',
  AWAITING_QR: 'connecting',
  PAIRED_RESTARTING: 'connecting',
  RECONNECT_WAIT: 'connecting',
  QR_EXPIRED: 'disconnected',
  CONFLICT: 'disconnected',
  BLOCKED: 'disconnected',
  NEEDS_UPDATE: 'disconnected',
  NEEDS_ATTENTION: 'disconnected',
  STOPPED: 'disconnected',
  LOGGED_OUT: 'loggedout',
}

/** A scheduled retry (dueAt set) is "waiting to reconnect", `connecting` in the contract, whatever the phase. */
export function connectionStateOf(s: Pick<MachineState, 'phase' | 'dueAt'>): ConnectionState {
  return s.dueAt === null ? CONNECTION_STATE[s.phase] : 'connecting'
}

export function displayStatusOf(s: MachineState): string {
  const label = s.lastClose?.label ?? 'unknown'
  switch (s.phase) {
    case 'OPEN':
      return 'Online'
    case 'CONNECTING':
    case 'PAIRED_RESTARTING':
      return 'Connecting…'
    case 'AWAITING_QR':
      return s.pairingCode === null ? 'Waiting for QR scan' : 'Waiting for pairing code'
    case 'RECONNECT_WAIT':
      return `Reconnecting (${label}), attempt ${s.attempt}`
    case 'QR_EXPIRED':
      return 'Disconnected (QR expired)'
    case 'CONFLICT':
      return 'Disconnected (connection replaced)'
    case 'BLOCKED':
      return `Blocked (${label})`
    case 'NEEDS_UPDATE':
      return s.dueAt === null ? 'Needs update (client too old)' : 'Needs update (client too old), retrying'
    case 'NEEDS_ATTENTION':
      return `Needs attention (${label})`
    case 'LOGGED_OUT':
      return 'Logged out'
    case 'STOPPED':
      return 'Disconnected (stopped)'
  }
}

/** Closes that mean the connection went quiet (a keep-alive miss, or the hub's silent-socket restart). */
const KEEPALIVE_LOSS: ReadonlySet<string> = new Set(['connectionLost', 'silent'])

/**
 * The `instance.state` word for a state (webhooks contract, "which word, by what happened"): the
 * close's word wins over "connecting" while a retry is scheduled.
 */
export function eventWordOf(s: MachineState): EventWord {
  const close = s.lastClose
  switch (s.phase) {
    case 'OPEN':
      return close !== null && KEEPALIVE_LOSS.has(close.name) ? 'keepalive_restored' : 'connected'
    case 'CONNECTING':
      return s.live || s.dueAt === null ? 'connecting' : 'pair_success'
    case 'PAIRED_RESTARTING':
      return 'pair_success'
    case 'AWAITING_QR':
      return 'qr_ready'
    case 'RECONNECT_WAIT':
    case 'CONFLICT':
    case 'NEEDS_ATTENTION':
    case 'BLOCKED':
      return closeWord(close, s.phase === 'RECONNECT_WAIT' ? 'connecting' : 'disconnected')
    case 'NEEDS_UPDATE':
      return 'client_outdated'
    case 'LOGGED_OUT':
      return 'logged_out'
    case 'QR_EXPIRED':
    case 'STOPPED':
      return 'disconnected'
  }
}

function closeWord(close: MachineState['lastClose'], otherwise: EventWord): EventWord {
  switch (close?.code) {
    case 440:
      return 'stream_replaced'
    case 500:
      return 'stream_error'
    case 402:
      return 'temp_banned'
    case 403:
    case 406:
    case 411:
      return 'connect_failure'
  }
  return close !== null && KEEPALIVE_LOSS.has(close.name) ? 'keepalive_timeout' : otherwise
}

const EMPTY_PROFILE: Profile = { name: '', pictureUrl: null, isBusiness: false, businessName: '' }

/** Baileys' isWABusinessPlatform, restated to keep the core free of Baileys. */
function isBusinessPlatform(platform: string | null): boolean {
  return platform === 'smba' || platform === 'smbi'
}

/**
 * The full patch for a state. Identity fields are left out while the machine does not know them
 * (so a restart does not blank the stored number and picture); LOGGED_OUT clears them, because the
 * next pairing may link another number.
 */
export function toStatusPatch(s: MachineState): StatusPatch {
  const patch: StatusPatch = {
    state: connectionStateOf(s),
    // An open connection has nothing wrong to explain; the last drop stays in the stream's history.
    reason:
      s.phase === 'OPEN' || s.lastClose === null
        ? null
        : { code: s.lastClose.code, name: s.lastClose.name, message: s.lastClose.message },
    displayStatus: displayStatusOf(s),
    retryAt: s.dueAt === null ? null : new Date(s.dueAt).toISOString(),
    presenceStatus: s.phase === 'OPEN' && s.online ? 'available' : 'unavailable',
    event: eventWordOf(s),
  }
  if (s.phase === 'LOGGED_OUT') return { ...patch, numberJid: null, profile: { ...EMPTY_PROFILE } }
  if (s.me === null) return patch
  const profile: Partial<Profile> = { name: s.me.name ?? '' }
  if (s.pictureUrl !== undefined) profile.pictureUrl = s.pictureUrl
  const isBusiness = s.isBusiness ?? (s.platform === null ? undefined : isBusinessPlatform(s.platform))
  if (isBusiness !== undefined) {
    profile.isBusiness = isBusiness
    profile.businessName = isBusiness ? (s.businessName ?? s.me.verifiedName ?? s.me.name ?? '') : ''
  }
  return { ...patch, numberJid: s.me.jid, profile }
}

/**
 * An instance the snapshot shows as live after a restart, with no saved session to reconnect: the
 * connection the snapshot claims ended with the old process.
 */
export function hubRestartedPatch(): StatusPatch {
  return {
    state: 'disconnected',
    displayStatus: 'Disconnected (hub restarted without a saved session)',
    reason: { code: null, name: 'hubRestarted', message: 'The hub restarted and this instance has no saved session' },
    retryAt: null,
    presenceStatus: 'unavailable',
    event: 'disconnected',
  }
}
