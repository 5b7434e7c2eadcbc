/**
 * @module The narrow contracts between the hub and its sources and edges. Types only.
 */
import type { SettingsConfig } from './integrations.js'
import type { ConnectionState, StatusPatch } from './status.js'

/** Time source; tests inject a fixed or stepping clock. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/**
 * The one way a source (Baileys or simulated sockets) changes an instance's status. Implemented by
 * the hub, the single writer: it bumps `version` and the account `seq`, fans out and persists.
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
}

export type ConnectResult =
  | { status: 'qr'; qr: string }
  | { status: 'pairing'; pairingCode: string }
  | { status: 'connected' }

/** Errors the lifecycle endpoints turn into HTTP answers. */
export class WhatsAppError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message)
    this.name = 'WhatsAppError'
  }
}

/**
 * Drives the WhatsApp connections of every instance (one live socket per instance at most).
 * Implemented once over a socket factory: Baileys' makeWASocket, or simulated sockets.
 */
export interface WhatsAppControl {
  /** Starts a socket (unless one is live) and resolves with the current QR, a pairing code, or `connected`. */
  connect(inst: InstanceRef, opts: { number?: string; timeoutMs: number }): Promise<ConnectResult>
  /** Reconnects from the saved session; throws WhatsAppError(400) when there is none. */
  /** Starts a socket on the saved session; resolves with the state it left (`connected` when it had nothing to do). */
  reconnect(inst: InstanceRef): Promise<ConnectionState>
  /** Unlinks the device, wipes the session; the instance ends `loggedout`. */
  logout(inst: InstanceRef): Promise<void>
  /** Ends the socket and wipes the session before the instance is deleted. */
  remove(instanceId: number): Promise<void>
  /** The instance's settings changed (keepOnlineStatus drives own presence). */
  settingsChanged(inst: InstanceRef): void
  /** At start: reconnect every instance with a saved live session. */
  restore(instances: InstanceRef[]): void
  /** Ends every socket without logging out; sessions stay for the next start. */
  shutdown(): Promise<void>
  /** Present only in simulated mode. */
  readonly simulator: SimulatorControl | null
}

/** Control endpoints of simulated mode; each acts like the phone or the WhatsApp server would. */
export interface SimulatorControl {
  scan(instanceId: number): Promise<void>
  close(instanceId: number, code: number, message: string): Promise<void>
  online(instanceId: number, online: boolean): Promise<void>
  profile(
    instanceId: number,
    p: { name?: string; pictureUrl?: string | null; isBusiness?: boolean; businessName?: string },
  ): Promise<void>
}
