/**
 * The harness of the recorded-sequence tests: the real runner, session store and adapter over
 * fake Baileys sockets (Baileys' own event emitter), with manual time. Sequences and error shapes
 * are the ones recorded from rc.9 (docs/baileys-rc9.md).
 */
import type { OpenedDb } from '../../src/adapters/sqlite/db.js'
import { SqliteSessionStore } from '../../src/adapters/sqlite/session-store.js'
import type { InstanceRef } from '../../src/ports/whatsapp.js'
import { WhatsAppSupervisor, type SupervisorOptions } from '../../src/sources/whatsapp/supervisor.js'
import { boom, fakeFactory, type FakeBaileysSocket } from './fake-baileys-socket.js'
import { dbWithInstances, ManualTime, RecordingWriter, ref, settle, silentLog } from './helpers.js'

export const iso = (ms: number) => new Date(ms).toISOString()

export const JID = '15551234567@s.whatsapp.net'
export const CONNECTING = { connection: 'connecting', receivedPendingNotifications: false, qr: undefined } as const
export const QR1 = '2@ref1,noiseB64,identityB64,advB64'
export const ACCOUNT = {
  details: Buffer.from('details'),
  accountSignatureKey: Buffer.alloc(32, 1),
  accountSignature: Buffer.alloc(64, 2),
  deviceSignature: Buffer.alloc(64, 3),
}
export const PAIR_SUCCESS = {
  account: ACCOUNT,
  me: { id: '15551234567:12@s.whatsapp.net', name: undefined, lid: '99887766554433:12@lid' },
  signalIdentities: [],
  platform: 'android',
}
export const LOGIN_ME = { me: { id: '15551234567:12@s.whatsapp.net', name: 'Ana', lid: '99887766554433:12@lid' } }
export const RESTART_REQUIRED = () => boom(515, 'Stream Errored (restart required)', { tag: 'stream:error', attrs: { code: '515' } })

/** A Node system error as ws hands it to Baileys (`message` not enumerable, the rest own properties). */
export function systemError(message: string, props: Record<string, unknown>): Error {
  return Object.assign(new Error(message), props)
}

/** Baileys' close for a DNS failure before the upgrade (docs/baileys-rc9.md §1.2). */
export const ENOTFOUND = () =>
  boom(
    408,
    'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)',
    systemError('getaddrinfo ENOTFOUND web.whatsapp.com', { errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'web.whatsapp.com' }),
  )

/** A TLS-intercepting proxy: Baileys reports the certificate error as a 500. */
export const SELF_SIGNED = () => boom(500, 'WebSocket Error (self-signed certificate)', systemError('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))

export class Recorded {
  readonly time = new ManualTime()
  readonly opened: OpenedDb = dbWithInstances(1)
  readonly writer = new RecordingWriter(this.time)
  readonly sessions = new SqliteSessionStore(this.opened.db)
  readonly sockets: FakeBaileysSocket[]
  readonly wa: WhatsAppSupervisor
  /** Each call of the fake version refresh, with the number of sockets made by then. */
  readonly refreshes: number[] = []
  /** The fake refresh resolves when this does. */
  refreshDone: Promise<void> = Promise.resolve()

  constructor(options?: SupervisorOptions) {
    const fake = fakeFactory(this.sessions, () => this.time.now())
    this.sockets = fake.sockets
    const version = {
      refresh: async () => {
        this.refreshes.push(this.sockets.length)
        await this.refreshDone
      },
    }
    const { writer, sessions, time } = this
    this.wa = new WhatsAppSupervisor({ writer, sessions, factory: fake.factory, version, log: silentLog, clock: time, timers: time, random: () => 0.5, options })
  }

  async close(): Promise<void> {
    await this.wa.shutdown()
    this.opened.close()
  }

  last(): FakeBaileysSocket {
    const s = this.sockets[this.sockets.length - 1]
    if (s === undefined) throw new Error('no socket created')
    return s
  }

  /** The RESTART AFTER 515 sequence, which is also what any login with saved creds looks like. */
  async login(s: FakeBaileysSocket, me: object = LOGIN_ME): Promise<void> {
    s.update(CONNECTING)
    s.frame()
    s.emit('creds.update', { nextPreKeyId: 31, firstUnuploadedPreKeyId: 31 })
    s.emit('creds.update', me)
    s.update({ connection: 'open' })
    s.update({ receivedPendingNotifications: true })
    await settle()
  }

  /** Saves a paired session (personal by default); `extra.me` is merged into LOGIN_ME's. */
  async savePaired(extra: { me?: object; platform?: string } = {}): Promise<void> {
    const auth = this.sessions.auth(1)
    Object.assign(auth.state.creds, PAIR_SUCCESS, LOGIN_ME, extra, { me: { ...LOGIN_ME.me, ...extra.me } })
    await auth.saveCreds()
  }

  /** A saved paired session, reconnected and open on socket generation 1. */
  async openFromSavedSession(r: InstanceRef = ref(1), extra: { me?: object; platform?: string } = {}): Promise<FakeBaileysSocket> {
    await this.savePaired(extra)
    await this.wa.reconnect(r)
    await settle()
    await this.login(this.last(), { me: { ...LOGIN_ME.me, ...extra.me } })
    return this.last()
  }
}
