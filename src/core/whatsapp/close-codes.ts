/**
 * @module What a WhatsApp close means: its name, the words shown to users, and the class that
 * decides the reaction. Codes: Baileys 7.0.0-rc.9's DisconnectReason plus the codes seen in the
 * wild; messages and causes as the real makeWASocket reports them (test/whatsapp/loopback.test.ts),
 * which showed that the status code alone misleads (TLS and SOCKS failures come as 500, DNS
 * failures as 408).
 */
import type { CloseCause } from './events.js'

/**
 * - `restart`: the server asks for a new socket with the same creds (515 after pairing); not a failure.
 * - `qrExpired`: nobody scanned before the QR refs ran out; every new socket would start a new QR pool.
 * - `network`: the network, TLS or the proxy failed before WhatsApp answered; retried with backoff
 *   and never counted against the session or the QR.
 * - `transient`: the connection or the server had trouble; retried with backoff.
 * - `badSession`: a stream error (500 `Stream Errored (…)`); retried, and counted towards
 *   needing attention.
 * - `conflict`: another client uses the same creds.
 * - `loggedOut`: the device was unlinked; the session must be wiped.
 * - `blocked`: the account is locked or banned; the creds are kept.
 * - `needsUpdate`: the WhatsApp Web version was rejected.
 * - `needsAttention`: the session needs a re-pair.
 */
export type CloseClass =
  | 'restart'
  | 'qrExpired'
  | 'network'
  | 'transient'
  | 'badSession'
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

/** The prefix of every close Baileys builds from a ws / TCP / TLS / proxy error (socket.js:879). */
export const WS_ERROR_PREFIX = 'WebSocket Error ('

/**
 * Messages of Baileys' own 408 timeouts (handshake or query promiseTimeout, the pre-key upload),
 * named like DisconnectReason's reverse map gives 408. Other 408s (keep-alive miss) are a lost
 * connection.
 */
const TIMEOUT_MESSAGES: ReadonlySet<string> = new Set(['Timed Out', 'Pre-key upload timeout'])

/** Pair-success that could not be verified (validate-connection.js:126,138,148): status 500, not a bad session. */
const PAIR_ERRORS: ReadonlySet<string> = new Set([
  'Invalid account signature',
  'Failed to verify account signature',
  'Missing device-identity or device in pair success node',
])

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
  503: { name: 'unavailableService', label: 'service unavailable', class: 'transient' },
  515: { name: 'restartRequired', label: 'restart required', class: 'restart' },
}

/** A network-level failure, by cause; `label` is the lead of its displayStatus. */
export const NETWORK_MEANINGS: Record<Exclude<CloseCause, 'wsError'>, CloseMeaning> = {
  unreachable: { name: 'unreachable', label: "Can't reach WhatsApp", class: 'network' },
  tlsError: { name: 'tlsError', label: 'Secure connection to WhatsApp failed', class: 'network' },
  proxyUnreachable: { name: 'proxyUnreachable', label: "Can't reach the proxy", class: 'network' },
}

const QR_EXPIRED: CloseMeaning = { name: 'qrExpired', label: 'QR expired', class: 'qrExpired' }
const TIMED_OUT: CloseMeaning = { name: 'timedOut', label: 'timed out', class: 'transient' }
const NO_CODE: CloseMeaning = { name: 'connectionError', label: 'connection error', class: 'transient' }
const BAD_SESSION: CloseMeaning = { name: 'badSession', label: 'bad session', class: 'badSession' }
const PAIR_ERROR: CloseMeaning = { name: 'pairError', label: 'pairing failed', class: 'transient' }
const CONNECTION_FAILURE: CloseMeaning = { name: 'connectionFailure', label: 'connection failure', class: 'transient' }
const SERVER_ERROR: CloseMeaning = { name: 'serverError', label: 'server error', class: 'transient' }

/** The 515-like reading of a late 408 "QR refs attempts ended" that arrives after pair-success. */
export const LATE_QR_TIMER: CloseMeaning = { name: 'restartRequired', label: 'restart required', class: 'restart' }

/**
 * The close code carried by a Baileys close error (a Boom). Read structurally, not with
 * `instanceof Boom`: there may be several @hapi/boom copies. undefined for a plain Error.
 */
export function closeCodeOf(err: unknown): number | undefined {
  const code = (err as { output?: { statusCode?: unknown } } | null | undefined)?.output?.statusCode
  return typeof code === 'number' ? code : undefined
}

/**
 * Meaning of a close seen on a socket. `code` is undefined for a plain Error or our own `end()`;
 * `cause` is the adapter's reading of a `WebSocket Error (…)` and wins over the code.
 */
export function closeMeaning(code: number | undefined, message: string | undefined, cause?: CloseCause | null): CloseMeaning {
  if (cause === 'wsError') return NO_CODE
  if (cause) return NETWORK_MEANINGS[cause]
  if (code === 408 && message === QR_REFS_ENDED) return QR_EXPIRED
  if (code === 408 && message !== undefined && TIMEOUT_MESSAGES.has(message)) return TIMED_OUT
  if (code === undefined) return NO_CODE
  if (code === 500) {
    // Only stream-level errors say something about the session (docs/baileys-rc9.md §1.3).
    if (message?.startsWith('Stream Errored (')) return BAD_SESSION
    if (message !== undefined && PAIR_ERRORS.has(message)) return PAIR_ERROR
    if (message === 'Connection Failure') return CONNECTION_FAILURE
    return SERVER_ERROR
  }
  return BY_CODE[code] ?? { name: 'unknown', label: `code ${code}`, class: 'transient' }
}

/** `getaddrinfo ENOTFOUND web.whatsapp.com` out of `WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)`. */
export function innerMessage(message: string): string {
  return message.startsWith(WS_ERROR_PREFIX) && message.endsWith(')') ? message.slice(WS_ERROR_PREFIX.length, -1) : message
}

/** Reasons for closes the hub itself caused; they carry no WhatsApp code. */
export const LOCAL_REASONS = {
  stopped: { name: 'stopped', label: 'stopped' },
  connectWatchdog: { name: 'connectWatchdog', label: 'no answer' },
  silent: { name: 'silent', label: 'no data received' },
  logout: { name: 'loggedOut', label: 'logged out' },
  logoutUnconfirmed: { name: 'logoutUnconfirmed', label: 'logged out' },
} as const
