/**
 * @module What a WhatsApp close code means: its name, the words shown to users, and the class that
 * decides the reaction: Baileys 7.0.0-rc.9's DisconnectReason (lib/Types/index.d.ts) plus the
 * codes seen in the wild.
 */

/**
 * - `restart`: the server asks for a new socket with the same creds (515 after pairing); not a failure.
 * - `qrExpired`: nobody scanned before the QR refs ran out; every new socket would start a new QR pool.
 * - `transient`: network or server trouble; retried with backoff.
 * - `conflict`: another client uses the same creds.
 * - `loggedOut`: the device was unlinked; the session must be wiped.
 * - `blocked`: the account is locked or banned; the creds are kept.
 * - `needsUpdate`: the WhatsApp Web version was rejected.
 * - `needsAttention`: the session needs a re-pair.
 */
export type CloseClass =
  | 'restart'
  | 'qrExpired'
  | 'transient'
  | 'conflict'
  | 'loggedOut'
  | 'blocked'
  | 'needsUpdate'
  | 'needsAttention'

export interface CloseMeaning {
  /** Stable identifier, Baileys' DisconnectReason name where there is one. */
  name: string
  /** Lower-case words for displayStatus: "Reconnecting (connection lost), attempt 2". */
  label: string
  class: CloseClass
}

/** Baileys' message for the 408 that ends an unscanned QR pool (socket.js genPairQR). */
export const QR_REFS_ENDED = 'QR refs attempts ended'

/**
 * Messages of Baileys' own 408 timeouts (handshake or query promiseTimeout, the pre-key upload),
 * named like DisconnectReason's reverse map gives 408. Other 408s (keep-alive miss, ws E* errors)
 * are a lost connection.
 */
const TIMEOUT_MESSAGES: ReadonlySet<string> = new Set(['Timed Out', 'Pre-key upload timeout'])

const BY_CODE: Record<number, CloseMeaning> = {
  401: { name: 'loggedOut', label: 'logged out', class: 'loggedOut' },
  402: { name: 'temporarilyBanned', label: 'temporarily banned', class: 'blocked' },
  403: { name: 'forbidden', label: 'forbidden', class: 'blocked' },
  405: { name: 'clientTooOld', label: 'client too old', class: 'needsUpdate' },
  406: { name: 'banned', label: 'banned', class: 'blocked' },
  408: { name: 'connectionLost', label: 'connection lost', class: 'transient' },
  411: { name: 'multideviceMismatch', label: 'multi-device mismatch', class: 'needsAttention' },
  428: { name: 'connectionClosed', label: 'connection closed', class: 'transient' },
  440: { name: 'connectionReplaced', label: 'connection replaced', class: 'conflict' },
  500: { name: 'badSession', label: 'bad session', class: 'transient' },
  503: { name: 'unavailableService', label: 'service unavailable', class: 'transient' },
  515: { name: 'restartRequired', label: 'restart required', class: 'restart' },
}

const QR_EXPIRED: CloseMeaning = { name: 'qrExpired', label: 'QR expired', class: 'qrExpired' }
const TIMED_OUT: CloseMeaning = { name: 'timedOut', label: 'timed out', class: 'transient' }
const NO_CODE: CloseMeaning = { name: 'connectionError', label: 'connection error', class: 'transient' }

/**
 * The close code carried by a Baileys close error (a Boom). Read structurally, not with
 * `instanceof Boom`: there may be several @hapi/boom copies. undefined for a plain Error.
 */
export function closeCodeOf(err: unknown): number | undefined {
  const code = (err as { output?: { statusCode?: unknown } } | null | undefined)?.output?.statusCode
  return typeof code === 'number' ? code : undefined
}

/** Meaning of a close seen on a socket. `code` is undefined for a plain Error or our own `end()`. */
export function closeMeaning(code: number | undefined, message: string | undefined): CloseMeaning {
  if (code === 408 && message === QR_REFS_ENDED) return QR_EXPIRED
  if (code === 408 && message !== undefined && TIMEOUT_MESSAGES.has(message)) return TIMED_OUT
  if (code === undefined) return NO_CODE
  return BY_CODE[code] ?? { name: 'unknown', label: `code ${code}`, class: 'transient' }
}

/** Reasons for closes the hub itself caused; they carry no WhatsApp code. */
export const LOCAL_REASONS = {
  stopped: { name: 'stopped', label: 'stopped' },
  connectWatchdog: { name: 'connectWatchdog', label: 'no answer' },
  logout: { name: 'loggedOut', label: 'logged out' },
} as const
