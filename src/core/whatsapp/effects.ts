/**
 * @module What the state machine asks the runner to do. The runner executes effects in list order.
 */
import type { StatusPatch } from '../status.js'
import type { TimerKind } from './events.js'

export type Effect =
  /** Create socket generation `gen` with the instance's auth state (after any pending wipe). */
  | { type: 'createSocket'; gen: number }
  /** End the live socket; its close event is then ignored. */
  | { type: 'endSocket'; why: 'stop' | 'watchdog' | 'silent' }
  /** `sock.logout()`; the close it causes (401, or any close if it fails) ends in LOGGED_OUT. */
  | { type: 'logoutSocket' }
  /** Replaces a timer of the same kind. */
  | { type: 'scheduleTimer'; kind: TimerKind; ms: number }
  | { type: 'cancelTimer'; kind: TimerKind }
  /** Delete creds and keys. */
  | { type: 'wipeAuth' }
  /** Whether the saved session is reconnected at the next start: false only after an explicit stop. */
  | { type: 'setAutoStart'; autoStart: boolean }
  /**
   * Fetch the current WhatsApp Web version for the sockets created after it (the 405 remedy). The
   * next createSocket waits for it; a failed refresh keeps the version in use.
   */
  | { type: 'refreshVersion' }
  | { type: 'fetchProfile'; jid: string }
  /** The runner reports `online` once the request is written (or nothing, when it was not). */
  | { type: 'setPresence'; presence: 'available' | 'unavailable' }
  | { type: 'requestPairingCode'; number: string }
  | { type: 'publish'; patch: StatusPatch }
