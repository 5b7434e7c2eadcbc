/**
 * @module A fake Baileys socket: Baileys' own event emitter (makeEventBuffer), Baileys-shaped
 * connection.update / creds.update / contacts.update payloads and Boom close errors with the real
 * codes and messages. The same adapter, machine and runner drive it as a real socket.
 */
import { Boom } from '@hapi/boom'
import {
  jidNormalizedUser,
  makeEventBuffer,
  type AuthenticationCreds,
  type BaileysEventMap,
  type WABusinessProfile,
  type WAPresence,
} from '@whiskeysockets/baileys'
import { randomBytes } from 'node:crypto'
import { HubError } from '../../core/errors.js'
import type { Timers } from '../../ports/socket.js'
import type { BaileysSocketLike } from '../baileys/socket-adapter.js'
import { isPaired, type BaileysLogger } from '../baileys/creds.js'

/** What the simulated WhatsApp server knows about the account's profile. */
export interface SimProfile {
  pictureUrl: string | null
  isBusiness: boolean
  businessName: string
}

export interface SimulatedSocketOptions {
  /** The instance's live creds object, shared with every generation (as with Baileys). */
  creds: AuthenticationCreds
  timers: Timers
  random: () => number
  logger: BaileysLogger
  profile: () => SimProfile
  /** A QR ref lives this long (Baileys: 60 s for the first, 20 s after). */
  qrRotateMs: number
  /** Refs the server hands out before the 408 "QR refs attempts ended". */
  qrRefs: number
  /** Delay between `connecting` and the first QR or the login; 0 runs at once. */
  latencyMs: number
  onClose: () => void
}

const CROCKFORD = '123456789ABCDEFGHJKLMNPQRSTVWXYZ'

export class SimulatedSocket implements BaileysSocketLike {
  readonly ev: ReturnType<typeof makeEventBuffer>
  readonly authState: { creds: AuthenticationCreds }
  private stage: 'connecting' | 'qr' | 'open' | 'closed' = 'connecting'
  private timer: unknown = null

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
  scan(name: string): void {
    if (this.stage !== 'qr') throw new HubError('conflict', 'Instance is not waiting for a QR scan')
    this.clearTimer()
    const creds = this.authState.creds
    // A pairing-code request already put the typed number in creds.me.
    const number = creds.me?.id ? creds.me.id.split('@')[0].split(':')[0] : this.randomDigits(12)
    this.ev.emit('creds.update', {
      me: { id: `${number}:7@s.whatsapp.net`, name, lid: `${this.randomDigits(14)}:7@lid` },
      account: {
        details: Buffer.from('simulated'),
        accountSignatureKey: Buffer.alloc(32),
        accountSignature: Buffer.alloc(64),
        deviceSignature: Buffer.alloc(64),
      },
      platform: 'android',
      pairingCode: undefined,
    })
    this.emitConnection({ isNewLogin: true, qr: undefined })
    this.end(new Boom('Stream Errored (restart required)', { statusCode: 515, data: { tag: 'stream:error', attrs: { code: '515' } } }))
  }

  /** The phone (or another client) changes our presence. */
  setOnline(online: boolean): void {
    this.emitConnection({ isOnline: online })
  }

  /** The profile changed on the phone: push name and platform via creds, avatar via contacts.update. */
  profileChanged(p: { name?: string; businessName?: string; isBusiness?: boolean; pictureUrl?: string | null }): void {
    const me = this.authState.creds.me
    if (!me?.id) return
    if (p.name !== undefined || p.businessName !== undefined) {
      this.ev.emit('creds.update', {
        me: { ...me, ...(p.name === undefined ? {} : { name: p.name }), ...(p.businessName === undefined ? {} : { verifiedName: p.businessName }) },
      })
    }
    if (p.isBusiness !== undefined) this.ev.emit('creds.update', { platform: p.isBusiness ? 'smba' : 'android' })
    if (p.pictureUrl !== undefined || p.isBusiness !== undefined || p.businessName !== undefined) {
      this.ev.emit('contacts.update', [{ id: jidNormalizedUser(me.id), imgUrl: p.pictureUrl === null ? 'removed' : 'changed' }])
    }
  }

  async logout(msg?: string): Promise<void> {
    this.assertOpen()
    this.end(new Boom(msg || 'Intentional Logout', { statusCode: 401 }))
  }

  end(error: Error | undefined): void {
    if (this.stage === 'closed') return
    this.stage = 'closed'
    this.clearTimer()
    this.emitConnection({ connection: 'close', lastDisconnect: { error, date: new Date() } })
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
    // Baileys skips own-presence updates silently while the push name is unknown.
    if ((type === 'available' || type === 'unavailable') && this.authState.creds.me?.name) {
      this.emitConnection({ isOnline: type === 'available' })
    }
  }

  async profilePictureUrl(): Promise<string | undefined> {
    this.assertOpen()
    const url = this.o.profile().pictureUrl
    // WhatsApp answers "no picture" with an error node: Boom 500 with the code in data.
    if (url === null) throw new Boom('item-not-found', { data: 404 })
    return url
  }

  async getBusinessProfile(jid: string): Promise<WABusinessProfile | void> {
    this.assertOpen()
    if (!this.o.profile().isBusiness) return undefined
    return { wid: jid, description: '', email: undefined, website: [], category: 'Simulated', business_hours: {} }
  }

  private begin(): void {
    if (this.stage === 'closed') return
    this.emitConnection({ connection: 'connecting', receivedPendingNotifications: false, qr: undefined })
    // Like rc.9 validateConnection: any creds.me means a login attempt, even the typed number that
    // a pairing-code request leaves behind; WhatsApp refuses a login without a paired account.
    const next = () => {
      const creds = this.authState.creds
      if (!creds.me) this.showQr(this.o.qrRefs)
      else if (isPaired(creds)) this.login()
      else this.end(new Boom('Connection Failure', { statusCode: 401, data: { reason: '401', location: 'frc' } }))
    }
    if (this.o.latencyMs > 0) this.timer = this.o.timers.setTimeout(next, this.o.latencyMs)
    else next()
  }

  /** Recorded order (baileys.md §4.1): creds.update me, isOnline (nested in open), open, offline backlog done. */
  private login(): void {
    if (this.stage === 'closed') return
    const creds = this.authState.creds
    const me = creds.me as NonNullable<AuthenticationCreds['me']>
    this.ev.emit('creds.update', { me: { ...me } })
    this.stage = 'open'
    if (me.name) this.emitConnection({ isOnline: false })
    this.emitConnection({ connection: 'open' })
    this.emitConnection({ receivedPendingNotifications: true })
  }

  private showQr(refsLeft: number): void {
    if (this.stage === 'closed') return
    if (refsLeft === 0) {
      this.end(new Boom('QR refs attempts ended', { statusCode: 408 }))
      return
    }
    this.stage = 'qr'
    this.emitConnection({ qr: `2@${this.randomText(24)},${this.randomText(32)},${this.randomText(32)},${this.randomText(32)}` })
    this.timer = this.o.timers.setTimeout(() => this.showQr(refsLeft - 1), this.o.qrRotateMs)
  }

  private emitConnection(update: BaileysEventMap['connection.update']): void {
    this.ev.emit('connection.update', update)
  }

  private assertOpen(): void {
    if (this.stage === 'closed') throw new Boom('Connection Closed', { statusCode: 428 })
  }

  private clearTimer(): void {
    if (this.timer !== null) this.o.timers.clearTimeout(this.timer)
    this.timer = null
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
