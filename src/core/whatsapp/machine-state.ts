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
 * - QR_EXPIRED, CONFLICT, BLOCKED, NEEDS_UPDATE, NEEDS_ATTENTION: closed, no automatic retry
 *   (NEEDS_UPDATE keeps one slow retry while `dueAt` is set). A hub restart still reconnects them
 *   when paired: only a stop or a logout keeps a session down.
 * - LOGGED_OUT: unlinked; the session is wiped.
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
}

export interface MachineState {
  phase: Phase
  /** Generation of the newest socket; 0 before the first. Events of other generations are dropped. */
  gen: number
  /** The socket of `gen` exists and has not closed. */
  live: boolean
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
  /** Our own presence as Baileys last reported it (`isOnline`); reset with each socket. */
  online: boolean
  /** keepOnlineStatus. */
  wantOnline: boolean
  /** OPEN: lasted stableOpenMs; the retry counters were reset. */
  stable: boolean
  /** Retries since the last stable open; the next retry is number `attempt` (1-based) once scheduled. */
  attempt: number
  /**
   * Epoch ms of the scheduled reconnect (RECONNECT_WAIT, a 515 restart, the NEEDS_UPDATE retry).
   * Published as retryAt, and as state `connecting` while set.
   */
  dueAt: number | null
  /** 500 closes since the last stable open. */
  badSessions: number
  /** Times of recent 440 closes (within the conflict window). */
  conflicts: number[]
  /** Transient closes of an unpaired session since the last start command. */
  unpairedTries: number
  /** The one slow retry after a 405 was used. */
  updateRetried: boolean
  /** A logout is in flight: the next close of the live socket ends in LOGGED_OUT. */
  loggingOut: boolean
  lastClose: LastClose | null
  me: Me | null
  platform: string | null
  /** From fetchProfile; undefined until fetched. */
  pictureUrl: string | null | undefined
  isBusiness: boolean | undefined
  businessName: string | undefined
}

export interface MachineConfig {
  /** Ends a socket that stays in CONNECTING this long (Baileys hangs when the upgrade is refused). */
  watchdogMs: number
  /** An OPEN that lasts this long resets the retry counters. */
  stableOpenMs: number
  /** A 515 restart waits a random 0..restartJitterMs. */
  restartJitterMs: number
  /** The first 440 retries after this delay. */
  conflictRetryMs: number
  /** A second 440 within this window parks the instance in CONFLICT. */
  conflictWindowMs: number
  /** This many 500 closes without a stable open park the instance in NEEDS_ATTENTION. */
  badSessionLimit: number
  /** This many transient closes of an unpaired session park it in QR_EXPIRED. */
  unpairedTryLimit: number
  /** Delay of the single retry after a 405. */
  updateRetryMs: number
}

/** Baileys' default connectTimeoutMs (20 s) plus 15 s. */
export const DEFAULT_MACHINE_CONFIG: MachineConfig = {
  watchdogMs: 35_000,
  stableOpenMs: 60_000,
  restartJitterMs: 250,
  conflictRetryMs: 10_000,
  conflictWindowMs: 300_000,
  badSessionLimit: 5,
  unpairedTryLimit: 3,
  updateRetryMs: 300_000,
}

export function initialMachine(wantOnline = false): MachineState {
  return {
    phase: 'STOPPED',
    gen: 0,
    live: false,
    paired: false,
    qr: null,
    pairingNumber: null,
    pairingRequested: false,
    pairingCode: null,
    synced: false,
    online: false,
    wantOnline,
    stable: false,
    attempt: 0,
    dueAt: null,
    badSessions: 0,
    conflicts: [],
    unpairedTries: 0,
    updateRetried: false,
    loggingOut: false,
    lastClose: null,
    me: null,
    platform: null,
    pictureUrl: undefined,
    isBusiness: undefined,
    businessName: undefined,
  }
}

/** Phases with a socket that may still produce events. */
export const LIVE_PHASES: ReadonlySet<Phase> = new Set(['CONNECTING', 'AWAITING_QR', 'PAIRED_RESTARTING', 'OPEN'])

/** Phases that wait for a command (no socket, nothing scheduled except the NEEDS_UPDATE retry). */
export const PARKED_PHASES: ReadonlySet<Phase> = new Set([
  'STOPPED',
  'QR_EXPIRED',
  'LOGGED_OUT',
  'BLOCKED',
  'CONFLICT',
  'NEEDS_UPDATE',
  'NEEDS_ATTENTION',
])
