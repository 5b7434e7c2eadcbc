/**
 * @module Renders the machine state as the hub's status patch. Every field is derived from stored
 * state (never from the clock), so the list and the stream agree.
 */
import type { ConnectionState, EventWord, Profile, StatusPatch } from '../status.js'
import { innerMessage } from './close-codes.js'
import type { LastClose, MachineState, Phase } from './machine-state.js'

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

/** Closes of the network, TLS or proxy, whose displayStatus says what failed and when it retries. */
const NETWORK: ReadonlySet<string> = new Set(['unreachable', 'tlsError', 'proxyUnreachable'])

/** A scheduled retry (dueAt set) is "waiting to reconnect", `connecting` in the contract, whatever the phase. */
export function connectionStateOf(s: Pick<MachineState, 'phase' | 'dueAt'>): ConnectionState {
  return s.dueAt === null ? CONNECTION_STATE[s.phase] : 'connecting'
}

/** "8s", "10 min", "1 h": a delay as displayStatus says it. */
export function delayInWords(ms: number): string {
  if (ms < 59_500) return `${Math.max(1, Math.round(ms / 1000))}s`
  if (ms < 3_570_000) return `${Math.round(ms / 60_000)} min`
  return `${Math.round(ms / 3_600_000)} h`
}

function retryingIn(s: MachineState): string {
  return s.retryDelayMs === null ? 'retrying' : `retrying in ${delayInWords(s.retryDelayMs)}`
}

export function displayStatusOf(s: MachineState): string {
  const close = s.lastClose
  const label = close?.label ?? 'unknown'
  switch (s.phase) {
    case 'OPEN':
      return 'Online'
    case 'CONNECTING':
    case 'PAIRED_RESTARTING':
      return 'Connecting…'
    case 'AWAITING_QR':
      return s.pairingCode === null ? 'Waiting for QR scan' : 'Waiting for pairing code'
    case 'RECONNECT_WAIT':
      // "Can't reach WhatsApp (getaddrinfo ENOTFOUND web.whatsapp.com), retrying in 8s"
      if (close !== null && NETWORK.has(close.name)) return `${label} (${innerMessage(close.message)}), ${retryingIn(s)}`
      return `Reconnecting (${label}), attempt ${s.attempt}`
    case 'QR_EXPIRED':
      return 'Disconnected (QR expired)'
    case 'CONFLICT':
      return s.dueAt === null ? 'Disconnected (connection replaced)' : `Connection replaced by another client, ${retryingIn(s)}`
    case 'BLOCKED':
      return `Blocked (${label})`
    case 'NEEDS_UPDATE':
      return s.dueAt === null ? 'Needs update (client too old)' : 'Needs update (client too old), retrying'
    case 'NEEDS_ATTENTION':
      return s.dueAt === null ? `Needs attention (${label})` : `Needs attention (${label}), ${retryingIn(s)}`
    case 'LOGGED_OUT':
      return close?.name === 'logoutUnconfirmed' ? 'Logged out (unlink not sent: the phone may still list this device)' : 'Logged out'
    case 'STOPPED':
      return 'Disconnected (stopped)'
  }
}

/** A close as a sentence fragment: "Can't reach WhatsApp (getaddrinfo ENOTFOUND web.whatsapp.com)", "connection closed (Connection Terminated)". */
export function failureInWords(close: LastClose): string {
  return NETWORK.has(close.name) ? `${close.label} (${innerMessage(close.message)})` : `${close.label} (${close.message})`
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
      if (s.live) return s.manual ? 'manual_reconnect' : 'connecting'
      return s.dueAt === null ? 'connecting' : 'pair_success'
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

/** By the close's name, not its code: Baileys reports TLS and SOCKS failures as 500 too. */
const CLOSE_WORDS: Readonly<Record<string, EventWord>> = {
  connectionReplaced: 'stream_replaced',
  badSession: 'stream_error',
  temporarilyBanned: 'temp_banned',
  forbidden: 'connect_failure',
  banned: 'connect_failure',
  multideviceMismatch: 'connect_failure',
  connectionFailure: 'connect_failure',
  pairError: 'pair_error',
  connectionLost: 'keepalive_timeout',
  silent: 'keepalive_timeout',
}

function closeWord(close: LastClose | null, otherwise: EventWord): EventWord {
  return (close !== null ? CLOSE_WORDS[close.name] : undefined) ?? otherwise
}

const EMPTY_PROFILE: Profile = { name: '', pictureUrl: null, isBusiness: false, businessName: '' }

/** Baileys' isWABusinessPlatform, restated to keep the core free of Baileys. */
function isBusinessPlatform(platform: string | null): boolean {
  return platform === 'smba' || platform === 'smbi'
}

/**
 * The full patch for a state. Identity fields are left out while the machine does not know them
 * (so a restart does not blank the stored number, picture and business name); LOGGED_OUT clears
 * them, because the next pairing may link another number.
 */
export function toStatusPatch(s: MachineState): StatusPatch {
  const open = s.phase === 'OPEN'
  const patch: StatusPatch = {
    state: connectionStateOf(s),
    // An open connection has nothing wrong to explain; the last drop stays in the stream's history.
    reason: open || s.lastClose === null ? null : { code: s.lastClose.code, name: s.lastClose.name, message: s.lastClose.message },
    displayStatus: displayStatusOf(s),
    retryAt: s.dueAt === null ? null : new Date(s.dueAt).toISOString(),
    presenceStatus: open && s.online ? 'available' : 'unavailable',
    synced: open && s.synced,
    historySync: s.historySync === null ? null : { ...s.historySync },
    closeDetail: open || s.lastClose === null ? null : s.lastClose.detail,
    event: eventWordOf(s),
  }
  if (s.phase === 'LOGGED_OUT') return { ...patch, numberJid: null, profile: { ...EMPTY_PROFILE } }
  if (s.me === null) return patch
  const profile: Partial<Profile> = { name: s.me.name ?? '' }
  if (s.pictureUrl !== undefined) profile.pictureUrl = s.pictureUrl
  if (s.platform !== null) {
    profile.isBusiness = isBusinessPlatform(s.platform)
    // Never the push name: only a name WhatsApp gave as the business's (verified or at pair-success).
    if (!profile.isBusiness) profile.businessName = ''
    else if (s.businessName !== undefined) profile.businessName = s.businessName
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
    synced: false,
    historySync: null,
    closeDetail: null,
    event: 'disconnected',
  }
}

/**
 * A cluster node took the instance over from a node that stopped (or stopped renewing): it
 * reconnects from the saved session, and says so until the new socket reports.
 */
export function failoverPatch(previousNode: string, cause: 'stopped' | 'rebalance' = 'stopped'): StatusPatch {
  const message = cause === 'stopped' ? `node ${previousNode} stopped` : `moved from node ${previousNode} to balance the load`
  return {
    state: 'connecting',
    displayStatus: `Reconnecting on another node (${message})`,
    reason: { code: null, name: 'failover', message },
    retryAt: null,
    presenceStatus: 'unavailable',
    synced: false,
    historySync: null,
    closeDetail: null,
    event: 'connecting',
  }
}
