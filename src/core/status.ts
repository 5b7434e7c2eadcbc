/**
 * @module The status of one instance as the hub stores and serves it.
 * Every field is stored, never derived from the clock at render time, so the REST lists and the
 * stream always agree on what they show.
 */

export type ConnectionState = 'connected' | 'connecting' | 'disconnected' | 'loggedout'

export const CONNECTION_STATES: readonly ConnectionState[] = ['connected', 'connecting', 'disconnected', 'loggedout']

/** Why the last socket closed. `code` is the Baileys/WhatsApp close code; null for a local stop. */
export interface CloseReason {
  code: number | null
  name: string
  message: string
}

export interface Profile {
  name: string
  pictureUrl: string | null
  isBusiness: boolean
  businessName: string
}

/**
 * RyzeAPI's `instance.state` event vocabulary (whatsmeow's event names): what happened, as
 * `data.state` of the event says it (webhooks contract). A new state of ours gets a new word only
 * where none fits.
 */
export type EventWord =
  | 'connected'
  | 'connecting'
  | 'qr_ready'
  | 'pair_success'
  | 'pair_error'
  | 'disconnected'
  | 'logged_out'
  | 'stream_replaced'
  | 'temp_banned'
  | 'connect_failure'
  | 'client_outdated'
  | 'stream_error'
  | 'keepalive_timeout'
  | 'keepalive_restored'
  | 'manual_reconnect'

/** The word for a status that no source event explains (a new instance, a reloaded snapshot). */
export function eventWordOfState(state: ConnectionState): EventWord {
  return state === 'loggedout' ? 'logged_out' : state
}

/** History-sync progress while history sync is on: Baileys' `messaging-history.set`. */
export interface HistorySync {
  /** Percent from the phone's last chunk, or null when it gave none. */
  progress: number | null
  /** The connection received the first history notification since pairing. */
  isLatest: boolean
}

export interface InstanceStatus {
  state: ConnectionState
  /** ISO time of the last change of `state`. */
  since: string
  reason: CloseReason | null
  /** Human text: Online, Connecting…, Waiting for QR scan, Reconnecting (connection lost), attempt 2… */
  displayStatus: string
  /** ISO time of the next scheduled reconnect attempt, or null when none is scheduled. */
  retryAt: string | null
  numberJid: string | null
  /** The instance's own presence: `available` or `unavailable`. */
  presenceStatus: string
  profile: Profile
  /** Baileys' `receivedPendingNotifications`: the offline backlog was received (connected only). */
  synced: boolean
  /** null when history sync is off or nothing was synced on this connection. */
  historySync: HistorySync | null
  /**
   * The last close's own detail, as Baileys carries it in `data` (`conflict:device_removed` for an
   * unlink on the phone, `conflict:replaced` for 440, what WhatsApp sent for a ban), or null.
   */
  closeDetail: string | null
  /**
   * The event that produced this status. Stored, never rendered in the list item; a change of the
   * word alone is not a change of the status (presence and profile changes repeat it).
   */
  event: EventWord
}

/** What a source may change. `profile` merges field by field; `since` defaults to now on a state change. */
export type StatusPatch = Partial<Omit<InstanceStatus, 'profile'>> & { profile?: Partial<Profile> }

export function initialStatus(now: string): InstanceStatus {
  return {
    state: 'disconnected',
    since: now,
    reason: null,
    displayStatus: 'Disconnected',
    retryAt: null,
    numberJid: null,
    presenceStatus: 'unavailable',
    profile: { name: '', pictureUrl: null, isBusiness: false, businessName: '' },
    synced: false,
    historySync: null,
    closeDetail: null,
    event: 'disconnected',
  }
}

/** Applies a patch; returns the same object when nothing changed (callers compare by identity). */
export function applyStatusPatch(prev: InstanceStatus, patch: StatusPatch, now: string): InstanceStatus {
  const next: InstanceStatus = { ...prev, ...patch, profile: { ...prev.profile, ...patch.profile } } as InstanceStatus
  if (patch.profile === undefined) next.profile = prev.profile
  if (next.state !== prev.state && patch.since === undefined) next.since = now
  // A source that changes the state without naming what happened gets the state's own word.
  if (next.state !== prev.state && patch.event === undefined) next.event = eventWordOfState(next.state)
  return sameStatus(prev, next) ? prev : next
}

function sameStatus(a: InstanceStatus, b: InstanceStatus): boolean {
  return (
    a.state === b.state &&
    a.since === b.since &&
    a.displayStatus === b.displayStatus &&
    a.retryAt === b.retryAt &&
    a.numberJid === b.numberJid &&
    a.presenceStatus === b.presenceStatus &&
    a.synced === b.synced &&
    a.closeDetail === b.closeDetail &&
    JSON.stringify(a.historySync) === JSON.stringify(b.historySync) &&
    JSON.stringify(a.reason) === JSON.stringify(b.reason) &&
    JSON.stringify(a.profile) === JSON.stringify(b.profile)
  )
  // `event` is left out on purpose: see InstanceStatus.event.
}
