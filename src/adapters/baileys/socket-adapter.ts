/**
 * @module One Baileys socket (real or simulated) as a WaSocketPort: `sock.ev` events become machine
 * events tagged with the socket generation; commands go the other way.
 */
import {
  isWABusinessPlatform,
  jidNormalizedUser,
  type AuthenticationCreds,
  type BaileysEventEmitter,
  type BaileysEventMap,
  type WABusinessProfile,
  type WAPresence,
} from '@whiskeysockets/baileys'
import { closeCodeOf } from '../../core/whatsapp/close-codes.js'
import type { InitiatedBy, SocketEvent } from '../../core/whatsapp/events.js'
import type { FetchedProfile, Log, WaSocketPort } from '../../ports/socket.js'
import { isPaired, meOf } from './creds.js'

/** The part of Baileys' WASocket the hub uses; the simulated socket implements the same. */
export interface BaileysSocketLike {
  ev: BaileysEventEmitter
  authState: { creds: AuthenticationCreds }
  logout(msg?: string): Promise<void>
  end(error: Error | undefined): void
  requestPairingCode(phoneNumber: string, customPairingCode?: string): Promise<string>
  sendPresenceUpdate(type: WAPresence, toJid?: string): Promise<void>
  profilePictureUrl(jid: string, type?: 'preview' | 'image', timeoutMs?: number): Promise<string | undefined>
  getBusinessProfile(jid: string): Promise<WABusinessProfile | void>
}

export interface AdapterHooks {
  /** Persists the live creds object (Baileys' own listener has already merged the update into it). */
  saveCreds(): Promise<void>
  log: Log
}

export function adaptSocket(sock: BaileysSocketLike, generation: number, hooks: AdapterHooks): WaSocketPort {
  return new BaileysSocketAdapter(sock, generation, hooks)
}

type ConnectionUpdate = BaileysEventMap['connection.update']
type CredsUpdate = BaileysEventMap['creds.update']
type ContactsUpdate = BaileysEventMap['contacts.update']

class BaileysSocketAdapter implements WaSocketPort {
  private listener: ((e: SocketEvent) => void) | null = null
  private early: SocketEvent[] = []
  private detached = false
  private closed = false
  private endedBy: InitiatedBy | null = null

  constructor(
    private readonly sock: BaileysSocketLike,
    readonly generation: number,
    private readonly hooks: AdapterHooks,
  ) {
    // Listen from the start: Baileys emits on process.nextTick, and nothing may be missed.
    sock.ev.on('connection.update', this.onConnection)
    sock.ev.on('creds.update', this.onCreds)
    sock.ev.on('contacts.update', this.onContacts)
  }

  subscribe(listener: (e: SocketEvent) => void): () => void {
    this.listener = listener
    const early = this.early
    this.early = []
    for (const e of early) listener(e)
    return () => this.detach()
  }

  requestPairingCode(phoneDigits: string): Promise<string> {
    return this.sock.requestPairingCode(phoneDigits)
  }

  setPresence(presence: 'available' | 'unavailable'): Promise<void> {
    return this.sock.sendPresenceUpdate(presence)
  }

  async fetchProfile(jid: string): Promise<FetchedProfile> {
    const creds = this.sock.authState.creds
    let pictureUrl: string | null | undefined
    try {
      // undefined also means the query timed out (rc.9 waitForMessage); shown as "no picture".
      pictureUrl = (await this.sock.profilePictureUrl(jid, 'image')) ?? null
    } catch (err) {
      // 404 item-not-found: no picture; 401 not-authorized: hidden by privacy settings. Code in `data`.
      const code = (err as { data?: unknown }).data
      pictureUrl = code === 404 || code === 401 ? null : undefined
      if (pictureUrl === undefined) this.hooks.log.warn({ err, jid }, 'profile picture fetch failed')
    }
    const byPlatform = creds.platform !== undefined && isWABusinessPlatform(creds.platform)
    let isBusiness = byPlatform
    if (byPlatform || creds.platform === undefined) {
      try {
        isBusiness = byPlatform || Boolean(await this.sock.getBusinessProfile(jid))
      } catch (err) {
        this.hooks.log.warn({ err, jid }, 'business profile fetch failed')
      }
    }
    const businessName = isBusiness ? creds.me?.verifiedName : undefined
    return businessName ? { pictureUrl, isBusiness, businessName } : { pictureUrl, isBusiness }
  }

  logout(): Promise<void> {
    return this.sock.logout()
  }

  end(why: 'stop' | 'watchdog' | 'silent' | 'logout'): void {
    if (this.closed) return
    this.endedBy = why
    try {
      this.sock.end(undefined)
    } catch (err) {
      this.hooks.log.warn({ err }, 'socket end failed')
    }
    // Baileys rc.9 emits the close synchronously; later versions may not. Exactly one close either way.
    if (!this.closed) this.emitClose(undefined)
  }

  private emit(e: SocketEvent): void {
    if (this.detached) return
    if (this.listener === null) this.early.push(e)
    else this.listener(e)
  }

  private detach(): void {
    this.detached = true
    this.listener = null
    this.early = []
    this.sock.ev.off('connection.update', this.onConnection)
    this.sock.ev.off('creds.update', this.onCreds)
    this.sock.ev.off('contacts.update', this.onContacts)
  }

  /** Each update is a partial patch; read in this order: qr, isNewLogin, connection, receivedPendingNotifications, isOnline. */
  private readonly onConnection = (u: ConnectionUpdate): void => {
    const gen = this.generation
    if (u.qr) this.emit({ type: 'qr', gen, qr: u.qr })
    if (u.isNewLogin) this.emit({ type: 'paired', gen, me: meOf(this.sock.authState.creds) })
    if (u.connection === 'connecting') this.emit({ type: 'connecting', gen })
    if (u.connection === 'open') this.emit({ type: 'open', gen, me: meOf(this.sock.authState.creds) })
    if (u.connection === 'close') this.emitClose(u.lastDisconnect?.error)
    if (u.receivedPendingNotifications === true) this.emit({ type: 'synced', gen })
    if (typeof u.isOnline === 'boolean') this.emit({ type: 'online', gen, online: u.isOnline })
  }

  private readonly onCreds = (update: CredsUpdate): void => {
    this.hooks.saveCreds().catch((err: unknown) => this.hooks.log.error({ err }, 'saving creds failed'))
    if (!('me' in update || 'platform' in update || 'account' in update)) return
    const creds = this.sock.authState.creds
    this.emit({ type: 'creds', gen: this.generation, me: meOf(creds), platform: creds.platform ?? null, paired: isPaired(creds) })
  }

  private readonly onContacts = (updates: ContactsUpdate): void => {
    const me = this.sock.authState.creds.me
    if (!me?.id) return
    const mine = new Set([jidNormalizedUser(me.id), me.lid ? jidNormalizedUser(me.lid) : ''])
    if (updates.some((u) => u.id && 'imgUrl' in u && mine.has(jidNormalizedUser(u.id)))) {
      this.emit({ type: 'avatarChanged', gen: this.generation })
    }
  }

  private emitClose(err: Error | undefined): void {
    if (this.closed) return
    this.closed = true
    this.emit({
      type: 'closed',
      gen: this.generation,
      code: closeCodeOf(err),
      message: err?.message ?? '',
      initiatedBy: this.endedBy ?? 'remote',
    })
  }
}
