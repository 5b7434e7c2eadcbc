/**
 * @module A fake Baileys socket that behaves like rc.9 where the hub can tell (docs/baileys-rc9.md):
 * Baileys' own event emitter with its buffering until the offline backlog, Baileys-shaped
 * connection.update / creds.update / contacts.update / messaging-history.set / call payloads,
 * Boom close errors with the real codes, messages and wrapped errors, QR windows of 60 s then
 * 20 s, no push name at pairing for a personal account, a keep-alive that ends a silent socket
 * with 408 "Connection was lost", and the network failures real sockets show. Never kinder than
 * Baileys: what rc.9 does not emit (a verified name, phone-driven presence), it does not emit.
 *
 * It imports the Baileys adapter on purpose (the socket shape adaptSocket takes, the creds check,
 * the verified-name answer) and Baileys' own makeEventBuffer: a simulation built from copies would
 * drift from what a real socket does. .dependency-cruiser.cjs allows exactly these imports
 * (the-simulator-drives-the-baileys-adapter).
 */
import { Boom } from '@hapi/boom'
import {
  jidNormalizedUser,
  makeEventBuffer,
  type AnyMessageContent,
  type AuthenticationCreds,
  type BaileysEventMap,
  type USyncQuery,
  type USyncQueryResult,
  type WAPresence,
} from '@whiskeysockets/baileys'
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { HubError } from '../../core/errors.js'
import type { Timers } from '../../ports/socket.js'
import type { SimNetworkMode } from '../../ports/whatsapp.js'
import type { BaileysSocketLike } from '../baileys/socket-adapter.js'
import { isPaired, type BaileysLogger } from '../baileys/creds.js'
import { verifiedNameAnswer } from '../baileys/verified-name.js'

/** What the simulated WhatsApp server and phone know about the account. */
export interface SimProfile {
  pictureUrl: string | null
  /** Decides the platform (smba) and the `<biz name>` at the next pairing. */
  isBusiness: boolean
  /** The verified name the server answers with, for a business. */
  businessName: string
  /** The push name the phone's app state carries; it reaches the creds during the initial sync. */
  pushName: string
}

export interface SimTiming {
  /** The first QR ref lives this long (Baileys: 60 s). */
  qrFirstMs: number
  /** Every later ref (Baileys: 20 s). */
  qrRotateMs: number
  /** Refs the server hands out before the 408 "QR refs attempts ended" (WhatsApp gives 6). */
  qrRefs: number
  /** Delay between `connecting` and the first QR, the login or a network failure; 0 runs at once. */
  latencyMs: number
  /** From `open` to the offline backlog (`receivedPendingNotifications`) and the initial sync. */
  backlogMs: number
  /** Baileys' keepAliveIntervalMs: a ping every 30 s; silence past it plus 5 s ends the socket. */
  keepAliveMs: number
  /** Baileys' connectTimeoutMs: how long an upgrade that never answers takes to fail. */
  connectTimeoutMs: number
}

export const DEFAULT_SIM_TIMING: SimTiming = {
  qrFirstMs: 60_000,
  qrRotateMs: 20_000,
  qrRefs: 6,
  latencyMs: 0,
  backlogMs: 500,
  keepAliveMs: 30_000,
  connectTimeoutMs: 20_000,
}

export interface SimulatedSocketOptions {
  /** The instance's live creds object, shared with every generation (as with Baileys). */
  creds: AuthenticationCreds
  timers: Timers
  now: () => number
  random: () => number
  logger: BaileysLogger
  profile: () => SimProfile
  timing: SimTiming
  /** What the network does to this socket. */
  network: SimNetworkMode
  /** Whether Baileys' shouldSyncHistoryMessage lets history through (the disableHistorySync setting). */
  syncHistory: () => boolean
  /** Logged in (connection open): WhatsApp now counts it as the number's live socket. */
  onOpen: () => void
  onClose: () => void
}

const CROCKFORD = '123456789ABCDEFGHJKLMNPQRSTVWXYZ'
/** proto.HistorySync.HistorySyncType.RECENT: the chunk the hub's filter lets through. */
const RECENT = 3

/** A Node system error as ws hands it to Baileys: `message` not enumerable, the rest own properties. */
function systemError(message: string, props: Record<string, unknown>): Error {
  return Object.assign(new Error(message), props)
}

export class SimulatedSocket implements BaileysSocketLike {
  readonly ev: ReturnType<typeof makeEventBuffer>
  /** Frames and upgrade events, as Baileys' WebSocketClient re-emits them. */
  readonly ws = new EventEmitter()
  readonly authState: { creds: AuthenticationCreds }
  /** Calls rejected and messages sent, for tests. */
  readonly rejected: { callId: string; from: string }[] = []
  readonly sent: { jid: string; content: AnyMessageContent }[] = []
  private stage: 'connecting' | 'qr' | 'open' | 'closed' = 'connecting'
  private readonly pending = new Set<unknown>()
  private qrTimer: unknown = null
  private lastRecv = 0
  private silentUntil = 0

  constructor(private readonly o: SimulatedSocketOptions) {
    this.ev = makeEventBuffer(o.logger)
    this.authState = { creds: o.creds }
    // Baileys registers this listener inside makeSocket, before any of ours: the live creds
    // object has absorbed an update by the time the hub's listener sees it.
    this.ev.on('creds.update', (update) => Object.assign(this.authState.creds, update))
    // Baileys emits its first update on process.nextTick; the caller subscribes before that.
    queueMicrotask(() => this.begin())
  }

  /** The phone scans the QR (or enters the pairing code): pair-success, then the server's 515. */
  scan(): void {
    if (this.stage !== 'qr') throw new HubError('conflict', 'Instance is not waiting for a QR scan')
    this.clearQrTimer()
    const creds = this.authState.creds
    const profile = this.o.profile()
    // A pairing-code request already put the typed number in creds.me.
    const number = creds.me?.id ? creds.me.id.split('@')[0]!.split(':')[0] : this.randomDigits(12)
    this.frame()
    // validate-connection.js: me.name is the <biz name> for a business account, undefined otherwise.
    this.ev.emit('creds.update', {
      me: { id: `${number}:7@s.whatsapp.net`, lid: `${this.randomDigits(14)}:7@lid`, ...(profile.isBusiness ? { name: profile.businessName } : {}) },
      account: {
        details: Buffer.from('simulated'),
        accountSignatureKey: Buffer.alloc(32),
        accountSignature: Buffer.alloc(64),
        deviceSignature: Buffer.alloc(64),
      },
      platform: profile.isBusiness ? 'smba' : 'android',
      pairingCode: undefined,
    })
    this.emitConnection({ isNewLogin: true, qr: undefined })
    this.frame()
    this.end(new Boom('Stream Errored (restart required)', { statusCode: 515, data: { tag: 'stream:error', attrs: { code: '515' } } }))
  }

  /** The phone changed the push name (app-state sync) or the avatar (a notification for our jid). */
  profileChanged(p: { name?: string; pictureUrl?: string | null }): void {
    const me = this.authState.creds.me
    if (!me?.id || this.stage !== 'open' || this.isSilent()) return
    this.frame()
    if (p.name !== undefined) this.ev.emit('creds.update', { me: { ...me, name: p.name } })
    if (p.pictureUrl !== undefined) this.ev.emit('contacts.update', [{ id: jidNormalizedUser(me.id), imgUrl: p.pictureUrl === null ? 'removed' : 'changed' }])
  }

  /** Someone calls: a Baileys-shaped `call` offer (messages-recv.js handleCall). */
  incomingCall(from: string): string {
    if (this.stage !== 'open') throw new HubError('conflict', 'Instance is not connected')
    const id = randomBytes(16).toString('hex').toUpperCase()
    this.frame()
    this.ev.emit('call', [{ chatId: from, from, id, date: new Date(this.o.now()), offline: false, status: 'offer', isVideo: false, isGroup: false }])
    return id
  }

  /** Nothing arrives for `ms`: no frames, no keep-alive answers (Baileys ends the socket itself past 35 s). */
  silence(ms: number): void {
    if (this.stage === 'closed') throw new HubError('conflict', 'Instance has no live socket')
    this.silentUntil = this.o.now() + ms
  }

  async logout(msg?: string): Promise<void> {
    this.assertOpen()
    this.end(new Boom(msg || 'Intentional Logout', { statusCode: 401 }))
  }

  end(error: Error | undefined): void {
    if (this.stage === 'closed') return
    this.stage = 'closed'
    this.clearQrTimer()
    for (const t of this.pending) this.o.timers.clearTimeout(t)
    this.pending.clear()
    this.emitConnection({ connection: 'close', lastDisconnect: { error, date: new Date(this.o.now()) } })
    this.ev.removeAllListeners('connection.update')
    this.o.onClose()
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    this.assertOpen()
    let code = ''
    for (let i = 0; i < 8; i++) code += CROCKFORD[Math.floor(this.o.random() * CROCKFORD.length)]
    const creds = this.authState.creds
    creds.pairingCode = code
    creds.me = { id: `${phoneNumber}@s.whatsapp.net`, name: '~' }
    // Like Baileys: the whole creds object, before anything is paired.
    this.ev.emit('creds.update', creds)
    return code
  }

  async sendPresenceUpdate(type: WAPresence): Promise<void> {
    this.assertOpen()
    const me = this.authState.creds.me
    // rc.9 chats.js:494 reads me.name: a TypeError before any creds.me (the QR phase).
    if (me === undefined) throw new TypeError("Cannot read properties of undefined (reading 'name')")
    // Without a push name Baileys resolves without sending; with one it echoes isOnline first.
    if ((type === 'available' || type === 'unavailable') && me.name) this.emitConnection({ isOnline: type === 'available' })
  }

  async profilePictureUrl(): Promise<string | undefined> {
    this.assertOpen()
    const url = this.o.profile().pictureUrl
    // WhatsApp answers "no picture" with an error node: Boom 500 with the code in data.
    if (url === null) throw new Boom('item-not-found', { data: 404 })
    return url
  }

  async executeUSyncQuery(q: USyncQuery): Promise<USyncQueryResult | undefined> {
    this.assertOpen()
    const jid = q.users[0]?.id ?? ''
    const p = this.o.profile()
    if (q.protocols.some((x) => x.name === 'business') && p.isBusiness && p.businessName !== '') return verifiedNameAnswer(jid, p.businessName) as USyncQueryResult
    return { list: [{ id: jid }], sideList: [] }
  }

  async rejectCall(callId: string, callFrom: string): Promise<void> {
    this.assertOpen()
    this.rejected.push({ callId, from: callFrom })
  }

  async sendMessage(jid: string, content: AnyMessageContent): Promise<unknown> {
    this.assertOpen()
    this.sent.push({ jid, content })
    return undefined
  }

  private begin(): void {
    if (this.stage === 'closed') return
    this.emitConnection({ connection: 'connecting', receivedPendingNotifications: false, qr: undefined })
    const t = this.o.timing
    const next = () => {
      switch (this.o.network) {
        case 'unreachable':
          return this.end(
            new Boom('WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)', {
              statusCode: 408,
              data: systemError('getaddrinfo ENOTFOUND web.whatsapp.com', { errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'web.whatsapp.com' }),
            }),
          )
        case 'tls':
          return this.end(
            new Boom('WebSocket Error (self-signed certificate)', {
              statusCode: 500,
              data: systemError('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
            }),
          )
        case 'hang':
          // ws's handshake timeout: TCP (and TLS) accepted, the upgrade never answered.
          return this.later(t.connectTimeoutMs, () =>
            this.end(new Boom('WebSocket Error (Opening handshake has timed out)', { statusCode: 408, data: new Error('Opening handshake has timed out') })),
          )
        case 'ok':
          return this.handshake()
      }
    }
    if (t.latencyMs > 0) this.later(t.latencyMs, next)
    else next()
  }

  private handshake(): void {
    this.ws.emit('upgrade', { statusCode: 101 })
    this.frame()
    this.lastRecv = this.o.now()
    this.keepAlive()
    // Like rc.9 validateConnection: any creds.me means a login attempt, even the typed number that
    // a pairing-code request leaves behind; WhatsApp refuses a login without a paired account.
    const creds = this.authState.creds
    if (!creds.me) this.showQr(this.o.timing.qrRefs, this.o.timing.qrFirstMs)
    else if (isPaired(creds)) this.login()
    else {
      this.frame()
      this.end(new Boom('Connection Failure', { statusCode: 401, data: { reason: '401', location: 'frc' } }))
    }
  }

  /** Recorded order (docs/baileys-rc9.md §3, §8): buffering from login until the offline backlog. */
  private login(): void {
    if (this.stage === 'closed') return
    this.ev.buffer()
    this.frame()
    const me = this.authState.creds.me as NonNullable<AuthenticationCreds['me']>
    this.ev.emit('creds.update', { me: { ...me } })
    this.stage = 'open'
    this.o.onOpen()
    // Baileys' own open-time presence (markOnlineOnConnect false) is sent only with a name.
    if (me.name) this.emitConnection({ isOnline: false })
    this.emitConnection({ connection: 'open' })
    this.later(this.o.timing.backlogMs, () => this.backlog())
  }

  /** `<ib><offline/>`: the buffer flushes, then receivedPendingNotifications; the initial sync follows. */
  private backlog(): void {
    if (this.isSilent()) return
    this.frame()
    this.ev.flush()
    this.emitConnection({ receivedPendingNotifications: true })
    const creds = this.authState.creds
    if (this.o.syncHistory()) {
      const first = !creds.processedHistoryMessages?.length
      this.ev.emit('messaging-history.set', { chats: [], contacts: [], messages: [], isLatest: first, progress: 100, syncType: RECENT })
      this.ev.emit('creds.update', { processedHistoryMessages: [...(creds.processedHistoryMessages ?? []), { key: { id: 'sim' }, messageTimestamp: 0 }] })
    }
    // The app-state pushNameSetting (chat-utils.js:677): a personal account's name arrives only now.
    const pushName = this.o.profile().pushName
    const me = creds.me
    if (me && pushName !== '' && me.name !== pushName) this.ev.emit('creds.update', { me: { ...me, name: pushName } })
  }

  private showQr(refsLeft: number, ms: number): void {
    if (this.stage === 'closed') return
    if (refsLeft === 0) {
      this.end(new Boom('QR refs attempts ended', { statusCode: 408 }))
      return
    }
    this.stage = 'qr'
    if (refsLeft === this.o.timing.qrRefs) this.frame()
    this.emitConnection({ qr: `2@${this.randomText(24)},${this.randomText(32)},${this.randomText(32)},${this.randomText(32)}` })
    this.qrTimer = this.o.timers.setTimeout(() => this.showQr(refsLeft - 1, this.o.timing.qrRotateMs), ms)
  }

  /** socket.js:519: every keepAliveMs, end the socket if nothing came for keepAliveMs + 5 s, else ping. */
  private keepAlive(): void {
    this.later(this.o.timing.keepAliveMs, () => {
      const now = this.o.now()
      if (now - this.lastRecv > this.o.timing.keepAliveMs + 5_000) {
        this.end(new Boom('Connection was lost', { statusCode: 408 }))
        return
      }
      if (!this.isSilent()) this.frame()
      this.keepAlive()
    })
  }

  private isSilent(): boolean {
    return this.o.now() < this.silentUntil
  }

  private frame(): void {
    if (this.isSilent()) return
    this.lastRecv = this.o.now()
    this.ws.emit('frame', {})
  }

  private later(ms: number, fn: () => void): void {
    const handle = this.o.timers.setTimeout(() => {
      this.pending.delete(handle)
      if (this.stage !== 'closed') fn()
    }, ms)
    this.pending.add(handle)
  }

  private emitConnection(update: BaileysEventMap['connection.update']): void {
    this.ev.emit('connection.update', update)
  }

  private assertOpen(): void {
    if (this.stage === 'closed') throw new Boom('Connection Closed', { statusCode: 428 })
  }

  private clearQrTimer(): void {
    if (this.qrTimer !== null) this.o.timers.clearTimeout(this.qrTimer)
    this.qrTimer = null
  }

  private randomDigits(n: number): string {
    let out = String(1 + Math.floor(this.o.random() * 9))
    while (out.length < n) out += String(Math.floor(this.o.random() * 10))
    return out
  }

  private randomText(bytes: number): string {
    return randomBytes(bytes).toString('base64')
  }
}
