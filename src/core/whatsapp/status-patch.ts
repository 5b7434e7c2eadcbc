/**
 * @module Renders the machine state as the hub's status patch. Every field is derived from stored
 * state (never from the clock), so the list and the stream agree.
 */
import type { ConnectionState, Profile, StatusPatch } from '../status.js'
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
