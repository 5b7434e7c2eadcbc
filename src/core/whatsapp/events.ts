/**
 * @module What the instance state machine reacts to: commands from the hub, timers it asked for,
 * and events from its sockets (already mapped from Baileys by the adapter).
 */

/** The linked account as the hub shows it. `jid` has no device part (`15551234567@s.whatsapp.net`). */
export interface Me {
  jid: string
  /**
   * Push name; undefined right after a QR login of a personal account until app-state sync sends
   * it (Baileys rc.9 never sets a verified name on our own account: see docs/baileys-rc9.md §6).
   */
  name?: string
}

/** Who ended a socket: the remote side (or the library on its own), or the hub. */
export type InitiatedBy = 'remote' | 'stop' | 'watchdog' | 'silent' | 'logout'

/**
 * What kind of failure a `WebSocket Error (…)` close was, read by the adapter from the error's
 * own data (never from the status code: Baileys reports TLS and SOCKS failures as 500 and
 * DNS failures as 408, so the code says nothing about the network).
 * - `unreachable`: DNS, refused, reset, no answer before the upgrade;
 * - `tlsError`: certificate or handshake errors (a TLS-intercepting proxy, a wrong clock);
 * - `proxyUnreachable`: the instance's proxy failed or refused;
 * - `wsError`: a WebSocket protocol error on an open socket.
 */
export type CloseCause = 'unreachable' | 'tlsError' | 'proxyUnreachable' | 'wsError'

/** What the session store knows about an instance before any socket exists. */
export interface SessionSnapshot {
  /** Paired means creds.me and creds.account are set; a pairing-code attempt alone is not a session. */
  paired: boolean
  me: Me | null
  platform: string | null
}

export type TimerKind = 'reconnect' | 'connectWatchdog' | 'stableOpen' | 'silence' | 'profileRefresh'

export type Command =
  /**
   * Start a socket unless one is live: connect (new QR or pairing code), reconnect, restore.
   * `manual`: the reconnect endpoint asked (its event word is `manual_reconnect`).
   */
  | { type: 'start'; session: SessionSnapshot | null; pairingNumber?: string; manual?: boolean }
  /** End the socket and stay down; a no-op when nothing runs. */
  | { type: 'stop' }
  /**
   * Unlink the device (through the live socket when there is one) and wipe the session. `linked`:
   * whether a paired session exists (default: what the machine knows); without a live socket it
   * cannot be unlinked, and the status says so.
   */
  | { type: 'logout'; linked?: boolean }
  /** The keepOnlineStatus setting. */
  | { type: 'presenceWanted'; online: boolean }
  /**
   * A timer fired. For `connectWatchdog` and `silence` the runner adds how long the socket has
   * been quiet (`idleMs`: since its last frame, null when none ever arrived) and whether it goes
   * through a proxy.
   */
  | { type: 'timer'; kind: TimerKind; idleMs?: number | null; viaProxy?: boolean }

/** Events of one socket generation; the machine drops those of any other generation. */
export type SocketEvent =
  | { type: 'connecting'; gen: number }
  | { type: 'qr'; gen: number; qr: string }
  | { type: 'pairingCode'; gen: number; code: string }
  /** requestPairingCode failed (the runner reports the error to the waiting /connect). */
  | { type: 'pairingFailed'; gen: number }
  /**
   * Pair-success (`isNewLogin`): the server restarts the stream (515) next. `businessName`: the
   * `<biz name>` WhatsApp sends at pair-success for a business account.
   */
  | { type: 'paired'; gen: number; me: Me | null; businessName?: string }
  | { type: 'open'; gen: number; me: Me | null }
  /** Offline backlog delivered (`receivedPendingNotifications`). */
  | { type: 'synced'; gen: number }
  /**
   * A presence request of ours was written to WhatsApp (sendPresenceUpdate resolved with a push
   * name set). Baileys' own `isOnline` is a local echo emitted before the send and is not used.
   */
  | { type: 'online'; gen: number; online: boolean }
  /** A history-sync chunk was processed (`messaging-history.set`). */
  | { type: 'historySync'; gen: number; progress: number | null; isLatest: boolean }
  /** Creds changed. `paired` is false for a pairing-code attempt, whose `me` is only the typed number. */
  | { type: 'creds'; gen: number; me: Me | null; platform: string | null; paired: boolean }
  /** Our own avatar changed (contacts.update for our jid). */
  | { type: 'avatarChanged'; gen: number }
  /**
   * Result of a fetchProfile effect. `pictureUrl` undefined means the fetch failed: keep the old
   * one. `businessName` undefined: WhatsApp gave none (keep what is known).
   */
  | { type: 'profile'; gen: number; pictureUrl?: string | null; businessName?: string }
  /**
   * The socket closed. `cause` classifies a `WebSocket Error (…)`; `detail` is the close's own
   * detail (Baileys' `data`) in words, e.g. `conflict:device_removed`.
   */
  | {
      type: 'closed'
      gen: number
      code: number | undefined
      message: string
      cause?: CloseCause | null
      detail?: string | null
      initiatedBy: InitiatedBy
    }

export type MachineEvent = Command | SocketEvent
