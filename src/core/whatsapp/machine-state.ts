/**
 * @module The state of one instance's WhatsApp connection, as the state machine holds it.
 */
import type { Me } from './events.js'

/**
 * - STOPPED: nothing runs (never started, or stopped by the hub).
 * - CONNECTING: a socket is starting; with `live` false, a 515 restart is due at `dueAt`.
 * - AWAITING_QR: a QR (and maybe a pairing code) waits for the phone.
 * - PAIRED_RESTARTING: pair-success seen; the server restarts the stream next.
 * - OPEN: logged in.
 * - RECONNECT_WAIT: a retry is due at `dueAt`.
 * - QR_EXPIRED, BLOCKED, NEEDS_UPDATE: closed, no automatic retry (NEEDS_UPDATE keeps one slow
 *   retry while `dueAt` is set).
 * - CONFLICT, NEEDS_ATTENTION: closed; they can heal by themselves, so a slow retry is always due
 *   at `dueAt` (minutes, doubling).
 * - LOGGED_OUT: unlinked; the session is wiped.
 * A hub restart still reconnects every parked phase that is paired: only a stop or a logout keeps
 * a session down.
 */
export type Phase =
  | 'STOPPED'
  | 'CONNECTING'
  | 'AWAITING_QR'
  | 'PAIRED_RESTARTING'
  | 'OPEN'
  | 'RECONNECT_WAIT'
  | 'QR_EXPIRED'
  | 'LOGGED_OUT'
  | 'BLOCKED'
  | 'CONFLICT'
  | 'NEEDS_UPDATE'
  | 'NEEDS_ATTENTION'

/** The last close, with the words displayStatus uses for it. `code` null: the hub closed it itself. */
export interface LastClose {
  code: number | null
  name: string
  message: string
  label: string
  /** The close's own detail (Baileys' `data`) in words, e.g. `conflict:device_removed`; null when it has none. */
  detail: string | null
}

/** History-sync progress of the live socket (Baileys' `messaging-history.set`). */
export interface HistorySyncProgress {
  progress: number | null
  /** The socket received the first history notification since the session was created. */
  isLatest: boolean
}

export interface MachineState {
  phase: Phase
  /** Generation of the newest socket; 0 before the first. Events of other generations are dropped. */
  gen: number
  /** The socket of `gen` exists and has not closed. */
  live: boolean
  /** Epoch ms when the socket of `gen` was created (the connect budget counts from it). */
  connectingSince: number | null
  /** The socket of `gen` was started by the reconnect endpoint. */
  manual: boolean
  /** The session is paired (known at start from the store, or learnt from pair-success or open). */
  paired: boolean
  /** AWAITING_QR: the current QR string; never published (only /connect shows it). */
  qr: string | null
  /** Digits to request a pairing code for, once the socket shows its first QR. */
  pairingNumber: string | null
  pairingRequested: boolean
  pairingCode: string | null
  /** OPEN: the offline backlog was delivered. */
  synced: boolean
  historySync: HistorySyncProgress | null
  /** Our own presence as last written to WhatsApp on this socket; reset with each socket. */
  online: boolean
  /** keepOnlineStatus. */
  wantOnline: boolean
  /** OPEN: lasted stableOpenMs; the retry counters were reset. */
  stable: boolean
  /** Retries since the last stable open; the next retry is number `attempt` (1-based) once scheduled. */
  attempt: number
  /**
   * Epoch ms of the scheduled reconnect (RECONNECT_WAIT, a 515 restart, the NEEDS_UPDATE retry,
   * the slow retry of CONFLICT and NEEDS_ATTENTION). Published as retryAt, and as state
   * `connecting` while set.
   */
  dueAt: number | null
  /** The delay that `dueAt` was scheduled with (displayStatus says "retrying in 8s"). */
  retryDelayMs: number | null
  /** Stream-error 500 closes since the last stable open. */
  badSessions: number
  /** Times of recent 440 closes (within the conflict window). */
  conflicts: number[]
  /** Transient closes of an unpaired session while a QR was shown, since the last start command. */
  unpairedTries: number
  /** 515 restarts since the last stable open (Baileys has no loop guard of its own). */
  restarts: number
  /** Slow retries of a parked CONFLICT or NEEDS_ATTENTION since the last stable open. */
  heals: number
  /** The one slow retry after a 405 was used. */
  updateRetried: boolean
  /** A logout is in flight: the next close of the live socket ends in LOGGED_OUT. */
  loggingOut: boolean
  lastClose: LastClose | null
  me: Me | null
  platform: string | null
  /** From fetchProfile; undefined until fetched. */
  pictureUrl: string | null | undefined
  /** OPEN: a profileRefresh timer is armed. */
  refreshArmed: boolean
  /** The verified business name, or the one pair-success gave; undefined while unknown. */
  businessName: string | undefined
}

export interface MachineConfig {
  /**
   * Ends a socket in CONNECTING from which nothing arrived for this long (counted from its last
   * frame, so the post-login queries Baileys awaits before `open` do not trip it). Default
   * 2 × Baileys' connectTimeoutMs + 15 s: a wss endpoint that accepts TCP and never answers TLS
   * takes Baileys 2 × connectTimeoutMs to report.
   */
  watchdogMs: number
  /** A CONNECTING socket is ended after this long even while frames arrive. */
  connectMaxMs: number
  /** An OPEN that lasts this long resets the retry counters. */
  stableOpenMs: number
  /** A 515 restart waits a random 0..restartJitterMs. */
  restartJitterMs: number
  /** More 515s than this without a stable open back off like a transient close. */
  restartLimit: number
  /** The first 440 retries after this delay. */
  conflictRetryMs: number
  /** A second 440 within this window parks the instance in CONFLICT. */
  conflictWindowMs: number
  /** This many stream-error 500s without a stable open park the instance in NEEDS_ATTENTION. */
  badSessionLimit: number
  /** This many transient closes of an unpaired session while a QR was shown park it in QR_EXPIRED. */
  unpairedTryLimit: number
  /** Delay of the single retry after a 405. */
  updateRetryMs: number
  /** The slow retry of CONFLICT and NEEDS_ATTENTION: base and cap of its jittered doubling. */
  healBaseMs: number
  healCapMs: number
  /** An OPEN socket from which nothing arrived for this long is restarted (HUB_SILENT_AFTER_MS). */
  silentAfterMs: number
  /** A profile picture URL is refetched this long before the expiry its `oe=` parameter gives. */
  pictureRefreshMarginMs: number
  /** Refetch period for a picture URL without a readable expiry. */
  pictureRefreshFallbackMs: number
  /** Retry delay after a failed profile fetch. */
  pictureRetryMs: number
}

export const DEFAULT_MACHINE_CONFIG: MachineConfig = {
  watchdogMs: 55_000,
  connectMaxMs: 300_000,
  stableOpenMs: 60_000,
  restartJitterMs: 250,
  restartLimit: 3,
  conflictRetryMs: 10_000,
  conflictWindowMs: 300_000,
  badSessionLimit: 5,
  unpairedTryLimit: 3,
  updateRetryMs: 300_000,
  healBaseMs: 600_000,
  healCapMs: 3_600_000,
  silentAfterMs: 120_000,
  pictureRefreshMarginMs: 3_600_000,
  pictureRefreshFallbackMs: 6 * 3_600_000,
  pictureRetryMs: 600_000,
}

export function initialMachine(wantOnline = false): MachineState {
  return {
    phase: 'STOPPED',
    gen: 0,
    live: false,
    connectingSince: null,
    manual: false,
    paired: false,
    qr: null,
    pairingNumber: null,
    pairingRequested: false,
    pairingCode: null,
    synced: false,
    historySync: null,
    online: false,
    wantOnline,
    stable: false,
    attempt: 0,
    dueAt: null,
    retryDelayMs: null,
    badSessions: 0,
    conflicts: [],
    unpairedTries: 0,
    restarts: 0,
    heals: 0,
    updateRetried: false,
    loggingOut: false,
    lastClose: null,
    me: null,
    platform: null,
    pictureUrl: undefined,
    refreshArmed: false,
    businessName: undefined,
  }
}

/** Phases with a socket that may still produce events. */
export const LIVE_PHASES: ReadonlySet<Phase> = new Set(['CONNECTING', 'AWAITING_QR', 'PAIRED_RESTARTING', 'OPEN'])

/** Phases that wait for a command or a slow retry: a waiting /connect gives up on them. */
export const PARKED_PHASES: ReadonlySet<Phase> = new Set([
  'STOPPED',
  'QR_EXPIRED',
  'LOGGED_OUT',
  'BLOCKED',
  'CONFLICT',
  'NEEDS_UPDATE',
  'NEEDS_ATTENTION',
])
