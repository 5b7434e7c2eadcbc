/**
 * A scriptable stand-in for Baileys' WASocket: Baileys' own event emitter (makeEventBuffer), its
 * creds-merging listener and its end() semantics (one close, then connection.update listeners
 * removed). Tests replay recorded sequences into `ev`.
 */
import { Boom } from '@hapi/boom'
import { makeEventBuffer, type AuthenticationCreds, type BaileysEventMap, type WABusinessProfile } from '@whiskeysockets/baileys'
import pino from 'pino'
import type { BaileysSocketLike } from '../../src/adapters/baileys/socket-adapter.js'
import { adaptSocket } from '../../src/adapters/baileys/socket-adapter.js'
import type { AuthSource } from '../../src/adapters/baileys/creds.js'
import type { SocketFactory } from '../../src/ports/socket.js'
import { silentLog } from './helpers.js'

const logger = pino({ level: 'silent' })

export function boom(statusCode: number, message: string, data?: unknown): Boom {
  return new Boom(message, { statusCode, data })
}

export class FakeBaileysSocket implements BaileysSocketLike {
  readonly ev = makeEventBuffer(logger)
  readonly authState: { creds: AuthenticationCreds }
  readonly calls: { method: string; args: unknown[] }[] = []
  closed = false
  pictureUrl: string | undefined = 'https://pps.example/me.jpg'
  logoutFails = false

  constructor(creds: AuthenticationCreds) {
    this.authState = { creds }
    this.ev.on('creds.update', (update) => Object.assign(this.authState.creds, update))
  }

  emit<K extends keyof BaileysEventMap>(event: K, payload: BaileysEventMap[K]): void {
    this.ev.emit(event, payload)
  }

  update(u: BaileysEventMap['connection.update']): void {
    this.ev.emit('connection.update', u)
  }

  closeWith(error: Error | undefined): void {
    this.end(error)
  }

  async logout(msg?: string): Promise<void> {
    this.calls.push({ method: 'logout', args: [msg] })
    if (this.logoutFails) throw boom(428, 'Connection Closed')
    this.end(boom(401, msg || 'Intentional Logout'))
  }

  end(error: Error | undefined): void {
    this.calls.push({ method: 'end', args: [error] })
    if (this.closed) return
    this.closed = true
    this.ev.emit('connection.update', { connection: 'close', lastDisconnect: { error, date: new Date() } })
    this.ev.removeAllListeners('connection.update')
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    this.calls.push({ method: 'requestPairingCode', args: [phoneNumber] })
    return 'KC4LVSL1'
  }

  async sendPresenceUpdate(type: string): Promise<void> {
    this.calls.push({ method: 'sendPresenceUpdate', args: [type] })
  }

  async profilePictureUrl(jid: string, type?: string): Promise<string | undefined> {
    this.calls.push({ method: 'profilePictureUrl', args: [jid, type] })
    return this.pictureUrl
  }

  async getBusinessProfile(jid: string): Promise<WABusinessProfile | void> {
    this.calls.push({ method: 'getBusinessProfile', args: [jid] })
    return undefined
  }

  called(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args)
  }
}

/** A factory of fake sockets over the real session store; `sockets` lists every generation made. */
export function fakeFactory(sessions: AuthSource): { factory: SocketFactory; sockets: FakeBaileysSocket[] } {
  const sockets: FakeBaileysSocket[] = []
  const factory: SocketFactory = ({ instanceId, generation }) => {
    const auth = sessions.auth(instanceId)
    const sock = new FakeBaileysSocket(auth.state.creds)
    sockets.push(sock)
    return adaptSocket(sock, generation, { saveCreds: auth.saveCreds, log: silentLog })
  }
  return { factory, sockets }
}
