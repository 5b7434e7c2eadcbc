/**
 * @module The contracts between the hub and its WhatsApp source: how a source changes a status
 * (StatusWriter, implemented by the hub), and what the lifecycle endpoints ask of the source
 * (WhatsAppControl, implemented by the supervisor). Failures are HubErrors with a kind.
 */
import type { ProxyConfig, SettingsConfig } from '../core/integrations.js'
import type { ConnectionState, StatusPatch } from '../core/status.js'

/**
 * The one way a source (Baileys or simulated sockets) changes an instance's status. Implemented by
 * the hub, the single writer: it bumps `version` and the account `seq`, persists and publishes.
 * Calls for unknown (deleted) instance ids are ignored.
 */
export interface StatusWriter {
  updateStatus(instanceId: number, patch: StatusPatch): void
}

/** What the WhatsApp layer needs to know about an instance. */
export interface InstanceRef {
  id: number
  name: string
  settings: SettingsConfig
  /** Used from the next socket on (an open socket keeps the route it was created with). */
  proxy: ProxyConfig
}

/** An instance as the snapshot shows it when the hub starts (restore decides what is still true). */
export interface RestoredInstance extends InstanceRef {
  state: ConnectionState
}

export type ConnectResult =
  | { status: 'qr'; qr: string }
  | { status: 'pairing'; pairingCode: string }
  | { status: 'connected' }

/**
 * Drives the WhatsApp connections of every instance (one live socket per instance at most).
 * Implemented once over a socket factory: Baileys' makeWASocket, or simulated sockets.
 */
export interface Liveness {
  lastFrameAt: number | null
}

export interface WhatsAppControl {
  /** Starts a socket (unless one is live) and resolves with the current QR, a pairing code, or `connected`. */
  connect(inst: InstanceRef, opts: { number?: string; timeoutMs: number }): Promise<ConnectResult>
  /**
   * Starts a socket on the saved session; resolves with the state it left (`connected` when it had
   * nothing to do). No saved session: HubError `invalid`.
   */
  reconnect(inst: InstanceRef): Promise<ConnectionState>
  /**
   * Unlinks the device, wipes the session; the instance ends `loggedout`. `unlinkSent` is false when
   * the unlink request (remove-companion-device) could not be written to WhatsApp: no live socket,
   * or the send failed. WhatsApp does not answer it, so true means sent, not confirmed.
   */
  logout(inst: InstanceRef): Promise<{ unlinkSent: boolean }>
  /** Ends the socket and wipes the session before the instance is deleted. */
  remove(instanceId: number): Promise<void>
  /** The instance's settings or proxy changed (keepOnlineStatus drives own presence; a proxy applies to the next socket). */
  settingsChanged(inst: InstanceRef): void
  /**
   * When the instance's socket last received a frame (epoch ms), or null when none ever did. A
   * cluster asks the node driving the socket, hence the promise.
   */
  liveness(instanceId: number): Liveness | Promise<Liveness>
  /**
   * At start: reconnects every instance with a saved live session, and corrects the snapshot of
   * those it will not reconnect (a status claiming a connection the restart ended).
   */
  restore(instances: RestoredInstance[]): void
  /** Ends every socket without logging out; sessions stay for the next start. */
  shutdown(): Promise<void>
  /** Present only in simulated mode. */
  readonly simulator: SimulatorControl | null
}

/** Control endpoints of simulated mode; each acts like the phone or the WhatsApp server would. */
/** What the simulated network does to the next sockets of an instance (like real Baileys fails). */
export type SimNetworkMode = 'ok' | 'unreachable' | 'tls' | 'hang'

export interface SimulatorControl {
  scan(instanceId: number): Promise<void>
  /** Applies to the sockets created after it; the instance needs no live socket. */
  network(instanceId: number, mode: SimNetworkMode): Promise<void>
  /** The open socket receives nothing (no frames, no keep-alive answers) for `ms`. */
  silence(instanceId: number, ms: number): Promise<void>
  close(instanceId: number, code: number, message: string): Promise<void>
  online(instanceId: number, online: boolean): Promise<void>
  /** The times two live sockets of one number overlapped past the margin, max(2 s, lease TTL / 5). */
  conflicts(): Promise<number>
  profile(
    instanceId: number,
    p: { name?: string; pictureUrl?: string | null; isBusiness?: boolean; businessName?: string },
  ): Promise<void>
}
