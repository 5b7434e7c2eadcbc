/**
 * A scriptable stand-in for Baileys' WASocket: Baileys' own event emitter (makeEventBuffer), its
 * creds-merging listener and its end() semantics (one close, then connection.update listeners
 * removed). Tests replay recorded sequences into `ev`.
 */
import { Boom } from '@hapi/boom'
import { makeEventBuffer, type AnyMessageContent, type AuthenticationCreds, type BaileysEventMap, type USyncQuery, type USyncQueryResult } from '@whiskeysockets/baileys'
import { EventEmitter } from 'node:events'
import pino from 'pino'
import type { BaileysSocketLike } from '../../src/adapters/baileys/socket-adapter.js'
import { adaptSocket } from '../../src/adapters/baileys/socket-adapter.js'
import type { AuthSource } from '../../src/adapters/baileys/creds.js'
import type { SocketFactory } from '../../src/ports/socket.js'
import { verifiedNameAnswer } from '../../src/adapters/baileys/verified-name.js'
import { silentLog } from './helpers.js'

const logger = pino({ level: 'silent' })

export function boom(statusCode: number, message: string, data?: unknown): Boom {
  return new Boom(message, { statusCode, data })
}

export class FakeBaileysSocket implements BaileysSocketLike {
  readonly ev = makeEventBuffer(logger)
  /** Baileys' WebSocketClient re-emits ws events here: `frame` per decoded frame, `unexpected-response`. */
  readonly ws = new EventEmitter()
  readonly authState: { creds: AuthenticationCreds }
  readonly calls: { method: string; args: unknown[] }[] = []
  closed = false
  /** What profilePictureUrl answers: a URL, undefined (no <picture>), or an error to throw. */
  pictureUrl: string | undefined | Error = 'https://pps.example/me.jpg'
  /** What the USync verified-name query answers with, or an error to throw. */
  verifiedName: string | undefined | Error = undefined
  /** What sendPresenceUpdate does: resolve, or throw this. */
  presenceError: Error | undefined = undefined
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
    if (this.presenceError) throw this.presenceError
  }

  async profilePictureUrl(jid: string, type?: string, timeoutMs?: number): Promise<string | undefined> {
    this.calls.push({ method: 'profilePictureUrl', args: [jid, type, timeoutMs] })
    if (this.pictureUrl instanceof Error) throw this.pictureUrl
    return this.pictureUrl
  }

  async executeUSyncQuery(q: USyncQuery): Promise<USyncQueryResult | undefined> {
    const jid = q.users[0]?.id ?? ''
    this.calls.push({ method: 'executeUSyncQuery', args: [jid, q.protocols.map((p) => p.name)] })
    if (this.verifiedName instanceof Error) throw this.verifiedName
    return (this.verifiedName === undefined ? { list: [{ id: jid }], sideList: [] } : verifiedNameAnswer(jid, this.verifiedName)) as USyncQueryResult
  }

  async rejectCall(callId: string, callFrom: string): Promise<void> {
    this.calls.push({ method: 'rejectCall', args: [callId, callFrom] })
  }

  async sendMessage(jid: string, content: AnyMessageContent): Promise<unknown> {
    this.calls.push({ method: 'sendMessage', args: [jid, content] })
    return undefined
  }

  /** One decoded frame arrived (Baileys emits `frame` on sock.ws). */
  frame(): void {
    this.ws.emit('frame', {})
  }

  called(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args)
  }
}

/** A factory of fake sockets over the real session store; `sockets` lists every generation made. */
export function fakeFactory(sessions: AuthSource, now: () => number): { factory: SocketFactory; sockets: FakeBaileysSocket[] } {
  const sockets: FakeBaileysSocket[] = []
  const factory: SocketFactory = ({ instanceId, generation, options }) => {
    const auth = sessions.auth(instanceId)
    const sock = new FakeBaileysSocket(auth.state.creds)
    sockets.push(sock)
    const proxy = options.proxy === null ? null : { host: options.proxy.host, port: Number(options.proxy.port) }
    return adaptSocket(sock, generation, { saveCreds: auth.saveCreds, log: silentLog, now, proxy, settings: options.settings })
  }
  return { factory, sockets }
}
