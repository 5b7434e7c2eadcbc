/**
 * @module One Baileys socket (real or simulated) as a WaSocketPort: `sock.ev` events become machine
 * events tagged with the socket generation; commands go the other way. Reads rc.9 as
 * docs/baileys-rc9.md found it: close errors classified by their wrapped error, frames counted on
 * `sock.ws`, a refused upgrade caught from `unexpected-response` (Baileys hangs on it), presence
 * reported only once written, calls rejected when the settings say so.
 */
import { Boom } from '@hapi/boom'
import {
  isWABusinessPlatform,
  jidNormalizedUser,
  type AnyMessageContent,
  type AuthenticationCreds,
  type BaileysEventEmitter,
  type BaileysEventMap,
  type USyncQuery,
  type USyncQueryResult,
  type WAPresence,
} from '@whiskeysockets/baileys'
import type { SettingsConfig } from '../../core/integrations.js'
import { closeCodeOf } from '../../core/whatsapp/close-codes.js'
import type { InitiatedBy, SocketEvent } from '../../core/whatsapp/events.js'
import type { FetchedProfile, Log, WaSocketPort } from '../../ports/socket.js'
import { closeCauseOf, closeDetailOf, type ProxyEndpoint } from './close-cause.js'
import { isPaired, meOf } from './creds.js'
import { verifiedNameOf, verifiedNameQuery } from './verified-name.js'

/** The part of `sock.ws` (Baileys' WebSocketClient, an EventEmitter) the adapter listens to. */
export interface WsLike {
  on(event: string, listener: (...args: any[]) => void): unknown
  off(event: string, listener: (...args: any[]) => void): unknown
}

/** The part of Baileys' WASocket the hub uses; the simulated socket implements the same. */
export interface BaileysSocketLike {
  ev: BaileysEventEmitter
  ws: WsLike
  authState: { creds: AuthenticationCreds }
  logout(msg?: string): Promise<void>
  end(error: Error | undefined): void
  requestPairingCode(phoneNumber: string, customPairingCode?: string): Promise<string>
  sendPresenceUpdate(type: WAPresence, toJid?: string): Promise<void>
  profilePictureUrl(jid: string, type?: 'preview' | 'image', timeoutMs?: number): Promise<string | undefined>
  executeUSyncQuery(query: USyncQuery): Promise<USyncQueryResult | undefined>
  rejectCall(callId: string, callFrom: string): Promise<void>
  sendMessage(jid: string, content: AnyMessageContent): Promise<unknown>
}

export interface AdapterHooks {
  /** Persists the live creds object (Baileys' own listener has already merged the update into it). */
  saveCreds(): Promise<void>
  log: Log
  /** The clock frames are timed with (the runner's). */
  now: () => number
  /** The socket's proxy, when it has one. */
  proxy: ProxyEndpoint | null
  /** The instance's current settings (calls are rejected by them). */
  settings: () => SettingsConfig
  /** How long a profile query may take. Default 10 s (Baileys' own default is 60 s, then "no picture"). */
  queryTimeoutMs?: number
}

export function adaptSocket(sock: BaileysSocketLike, generation: number, hooks: AdapterHooks): WaSocketPort {
  return new BaileysSocketAdapter(sock, generation, hooks)
}

type ConnectionUpdate = BaileysEventMap['connection.update']
type CredsUpdate = BaileysEventMap['creds.update']
type ContactsUpdate = BaileysEventMap['contacts.update']
type HistorySet = BaileysEventMap['messaging-history.set']
type Calls = BaileysEventMap['call']

class BaileysSocketAdapter implements WaSocketPort {
  private listener: ((e: SocketEvent) => void) | null = null
  private early: SocketEvent[] = []
  private detached = false
  private closed = false
  private endedBy: InitiatedBy | null = null
  private lastFrame: number | null = null
  readonly viaProxy: boolean

  constructor(
    private readonly sock: BaileysSocketLike,
    readonly generation: number,
    private readonly hooks: AdapterHooks,
  ) {
    this.viaProxy = hooks.proxy !== null
    // Listen from the start: Baileys emits on process.nextTick, and nothing may be missed.
    sock.ev.on('connection.update', this.onConnection)
    sock.ev.on('creds.update', this.onCreds)
    sock.ev.on('contacts.update', this.onContacts)
    sock.ev.on('messaging-history.set', this.onHistory)
    sock.ev.on('call', this.onCall)
    // end() removes Baileys' own ws listeners but not these: detach() does.
    sock.ws.on('frame', this.onFrame)
    sock.ws.on('unexpected-response', this.onUnexpectedResponse)
  }

  subscribe(listener: (e: SocketEvent) => void): () => void {
    this.listener = listener
    const early = this.early
    this.early = []
    for (const e of early) listener(e)
    return () => this.detach()
  }

  lastFrameAt(): number | null {
    return this.lastFrame
  }

  requestPairingCode(phoneDigits: string): Promise<string> {
    return this.sock.requestPairingCode(phoneDigits)
  }

  async setPresence(presence: 'available' | 'unavailable'): Promise<boolean> {
    // rc.9 resolves without sending anything while the push name is unknown (chats.js:494).
    if (!this.sock.authState.creds.me?.name) return false
    await this.sock.sendPresenceUpdate(presence)
    this.emit({ type: 'online', gen: this.generation, online: presence === 'available' })
    return true
  }

  async fetchProfile(jid: string): Promise<FetchedProfile> {
    const timeoutMs = this.hooks.queryTimeoutMs ?? 10_000
    let pictureUrl: string | null | undefined
    try {
      // With a timeout rc.9 throws 408 on no answer instead of resolving undefined after 60 s.
      pictureUrl = (await this.sock.profilePictureUrl(jid, 'image', timeoutMs)) ?? null
    } catch (err) {
      // 404 item-not-found: no picture; 401 not-authorized: hidden by privacy settings. Code in `data`.
      // Anything else (408, 428, a bare ws close code) says nothing about the picture.
      const code = (err as { data?: unknown } | null)?.data
      pictureUrl = code === 404 || code === 401 ? null : undefined
      if (pictureUrl === undefined) this.hooks.log.warn({ err, jid }, 'profile picture fetch failed; keeping the known picture')
    }
    const platform = this.sock.authState.creds.platform
    if (platform === undefined || !isWABusinessPlatform(platform)) return { pictureUrl }
    let businessName: string | undefined
    try {
      businessName = verifiedNameOf(await withTimeout(this.sock.executeUSyncQuery(verifiedNameQuery(jid)), timeoutMs))
    } catch (err) {
      this.hooks.log.warn({ err, jid }, 'verified business name query failed')
    }
    return businessName === undefined ? { pictureUrl } : { pictureUrl, businessName }
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
    this.sock.ev.off('messaging-history.set', this.onHistory)
    this.sock.ev.off('call', this.onCall)
    this.sock.ws.off('frame', this.onFrame)
    this.sock.ws.off('unexpected-response', this.onUnexpectedResponse)
  }

  private readonly onFrame = (): void => {
    this.lastFrame = this.hooks.now()
  }

  /**
   * A non-101 answer to the upgrade (a refusal, or an HTTP proxy's 407/502 replayed by
   * https-proxy-agent): Baileys listens for it and then never closes. End it now, with a close
   * that says what happened, instead of waiting for the watchdog.
   */
  private readonly onUnexpectedResponse = (_req: unknown, res: { statusCode?: number; statusMessage?: string }): void => {
    const status = res?.statusCode ?? 0
    const text = `Unexpected server response: ${status}${res?.statusMessage ? ` ${res.statusMessage}` : ''}`
    const byProxy = this.viaProxy && status === 407
    const data = Object.assign(new Error(byProxy ? `Proxy refused: ${status} ${res?.statusMessage ?? ''}`.trim() : text), {
      code: byProxy ? 'HUB_PROXY_REFUSED' : 'HUB_UNEXPECTED_RESPONSE',
      statusCode: status,
    })
    try {
      this.sock.end(new Boom(`WebSocket Error (${data.message})`, { statusCode: 408, data }))
    } catch (err) {
      this.hooks.log.warn({ err }, 'socket end failed')
    }
  }

  /** Each update is a partial patch; read in this order: qr, isNewLogin, connection, receivedPendingNotifications. */
  private readonly onConnection = (u: ConnectionUpdate): void => {
    const gen = this.generation
    if (u.qr) this.emit({ type: 'qr', gen, qr: u.qr })
    if (u.isNewLogin) {
      const creds = this.sock.authState.creds
      // At pair-success a business account's creds.me.name is the <biz name> WhatsApp sent.
      const biz = creds.platform !== undefined && isWABusinessPlatform(creds.platform) && creds.me?.name ? creds.me.name : undefined
      this.emit({ type: 'paired', gen, me: meOf(creds), ...(biz === undefined ? {} : { businessName: biz }) })
    }
    if (u.connection === 'connecting') this.emit({ type: 'connecting', gen })
    if (u.connection === 'open') this.emit({ type: 'open', gen, me: meOf(this.sock.authState.creds) })
    if (u.connection === 'close') this.emitClose(u.lastDisconnect?.error)
    if (u.receivedPendingNotifications === true) this.emit({ type: 'synced', gen })
    // `isOnline` is not read: rc.9 emits it before sending the presence, whether or not it is sent.
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

  private readonly onHistory = (h: HistorySet): void => {
    this.emit({ type: 'historySync', gen: this.generation, progress: typeof h.progress === 'number' ? h.progress : null, isLatest: h.isLatest === true })
  }

  private readonly onCall = (calls: Calls): void => {
    const settings = this.hooks.settings()
    if (!settings.autoRejectCalls) return
    for (const call of calls) {
      if (call.status !== 'offer') continue
      void this.reject(call.id, call.from, settings.callRejectMessage)
    }
  }

  private async reject(callId: string, from: string, message: string): Promise<void> {
    try {
      await this.sock.rejectCall(callId, from)
      if (message !== '') await this.sock.sendMessage(from, { text: message })
    } catch (err) {
      this.hooks.log.warn({ err, callId }, 'rejecting a call failed')
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
      cause: err === undefined ? null : closeCauseOf(err, this.hooks.proxy),
      detail: err === undefined ? null : closeDetailOf(err),
      initiatedBy: this.endedBy ?? 'remote',
    })
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
      timer.unref()
    }),
  ]).finally(() => clearTimeout(timer))
}
