/**
 * @module What the instance state machine reacts to: commands from the hub, timers it asked for,
 * and events from its sockets (already mapped from Baileys by the adapter).
 */

/** The linked account as the hub shows it. `jid` has no device part (`15551234567@s.whatsapp.net`). */
export interface Me {
  jid: string
  /** Push name; undefined right after a QR login of a personal account until app-state sync sends it. */
  name?: string
  /** Business name where WhatsApp gives one (Baileys' `verifiedName`). */
  verifiedName?: string
}

/** Who ended a socket: the remote side (or the library on its own), or the hub. */
export type InitiatedBy = 'remote' | 'stop' | 'watchdog' | 'logout'

/** What the session store knows about an instance before any socket exists. */
export interface SessionSnapshot {
  /** Paired means creds.me and creds.account are set; a pairing-code attempt alone is not a session. */
  paired: boolean
  me: Me | null
  platform: string | null
}

export type TimerKind = 'reconnect' | 'connectWatchdog' | 'stableOpen'

export type Command =
  /** Start a socket unless one is live: connect (new QR or pairing code), reconnect, restore. */
  | { type: 'start'; session: SessionSnapshot | null; pairingNumber?: string }
  /** End the socket and stay down; a no-op when nothing runs. */
  | { type: 'stop' }
  /** Unlink the device (through the live socket when there is one) and wipe the session. */
  | { type: 'logout' }
  /** The keepOnlineStatus setting. */
  | { type: 'presenceWanted'; online: boolean }
  | { type: 'timer'; kind: TimerKind }

/** Events of one socket generation; the machine drops those of any other generation. */
export type SocketEvent =
  | { type: 'connecting'; gen: number }
  | { type: 'qr'; gen: number; qr: string }
  | { type: 'pairingCode'; gen: number; code: string }
  /** requestPairingCode failed (the runner reports the error to the waiting /connect). */
  | { type: 'pairingFailed'; gen: number }
  /** Pair-success (`isNewLogin`): the server restarts the stream (515) next. */
  | { type: 'paired'; gen: number; me: Me | null }
  | { type: 'open'; gen: number; me: Me | null }
  /** Offline backlog delivered (`receivedPendingNotifications`). */
  | { type: 'synced'; gen: number }
  /** Our own presence (`isOnline`). */
  | { type: 'online'; gen: number; online: boolean }
  /** Creds changed. `paired` is false for a pairing-code attempt, whose `me` is only the typed number. */
  | { type: 'creds'; gen: number; me: Me | null; platform: string | null; paired: boolean }
  /** Our own avatar changed (contacts.update for our jid). */
  | { type: 'avatarChanged'; gen: number }
  /** Result of a fetchProfile effect. `pictureUrl` undefined means the fetch failed: keep the old one. */
  | { type: 'profile'; gen: number; pictureUrl?: string | null; isBusiness: boolean; businessName?: string }
  | { type: 'closed'; gen: number; code: number | undefined; message: string; data?: unknown; initiatedBy: InitiatedBy }

export type MachineEvent = Command | SocketEvent
