/**
 * @module The boundary between the runner and WhatsApp sockets (Baileys or simulated) and their
 * saved sessions; the hub never sees a Baileys type beyond these.
 */
import type { ProxyConfig, SettingsConfig } from '../core/integrations.js'
import type { SessionSnapshot, SocketEvent } from '../core/whatsapp/events.js'

/** Injectable timers (tests pass fakes); handles are opaque. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** A pino-compatible logger. */
export interface Log {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface FetchedProfile {
  /** null: no picture (or hidden); undefined: the fetch failed or timed out, keep what was shown. */
  pictureUrl: string | null | undefined
  /** The verified business name, when the account is a business and WhatsApp answered with one. */
  businessName?: string
}

/** One socket generation. Never reused after its close. */
export interface WaSocketPort {
  readonly generation: number
  /**
   * The single listener for this socket's events, each tagged with `generation`. Events that
   * happened before subscribing are delivered at once. Exactly one `closed` event is emitted.
   * Returns a function that detaches the listener (later events are dropped).
   */
  subscribe(listener: (e: SocketEvent) => void): () => void
  /** Whether the socket goes through the instance's proxy. */
  readonly viaProxy: boolean
  requestPairingCode(phoneDigits: string): Promise<string>
  /**
   * Resolves true once the presence request is written to WhatsApp, and then emits `online`;
   * false when Baileys would drop it (no push name yet). Rejects when the send fails.
   */
  setPresence(presence: 'available' | 'unavailable'): Promise<boolean>
  /** Picture (high resolution) and verified business name of `jid` (our own). Never rejects. */
  fetchProfile(jid: string): Promise<FetchedProfile>
  /** Epoch ms of the last frame received from WhatsApp, or null when none arrived yet. */
  lastFrameAt(): number | null
  /** Unlinks the device (remove-companion-device); the socket then closes with 401. */
  logout(): Promise<void>
  /** Closes without logging out; the close carries `initiatedBy: why`. Idempotent. */
  end(why: 'stop' | 'watchdog' | 'silent' | 'logout'): void
}

/** What a new socket takes from the instance's configuration. */
export interface SocketOptions {
  /** The proxy for this socket's WebSocket and fetches; null: direct. Read once, at creation. */
  proxy: ProxyConfig | null
  /** The instance's current settings, read when they matter (history sync, calls). */
  settings: () => SettingsConfig
}

/**
 * Creates generation `generation` for an instance from its saved (or fresh) auth state.
 * Synchronous so that no event can fire before the runner subscribes. May throw: the runner then
 * treats it as a close of that generation.
 */
export type SocketFactory = (args: { instanceId: number; generation: number; options: SocketOptions }) => WaSocketPort

export interface SessionInfo extends SessionSnapshot {
  /** False after an explicit stop: not reconnected at start. */
  autoStart: boolean
}

/** The saved sessions (creds and signal keys) as the runner needs them. */
export interface SessionPort {
  /**
   * Loads the instance's session into this process before a socket is created (the runner awaits
   * it before calling the factory). Stores that cannot read synchronously in `auth` need it (the
   * cluster's KV store also takes the session over from the node that wrote it before); it rejects
   * when the session may not be driven from here. Optional: the SQLite store reads in `auth`.
   */
  prepare?(instanceId: number): Promise<void>
  /** null when the instance has no saved creds. */
  info(instanceId: number): SessionInfo | null
  /** Updates an existing session only. */
  setAutoStart(instanceId: number, autoStart: boolean): void
  /** Resolves when every creds write queued so far is stored. */
  flush(instanceId: number): Promise<void>
  /** Deletes creds and keys; writes still queued from earlier sockets are dropped. */
  wipe(instanceId: number): Promise<void>
  /**
   * Wipes creds that hold `me` but never finished pairing (a pairing-code request writes the typed
   * number there). Baileys rc.9 sends a login instead of a registration whenever creds.me is set,
   * which WhatsApp answers with 401. Resolves true when it wiped.
   */
  discardUnpaired(instanceId: number): Promise<boolean>
  /** Instances to reconnect at start: paired and autoStart. */
  restorable(): number[]
}

/** Refreshes the WhatsApp Web version the socket factory uses (Baileys' fetchLatestWaWebVersion). */
export interface VersionPort {
  /** Never rejects; on failure the version in use stays. */
  refresh(): Promise<void>
}
