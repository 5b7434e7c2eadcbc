/**
 * @module Simulated mode: a socket factory of fake sockets plus SimulatorControl, which plays the
 * phone and the WhatsApp server (scan, close with a code, presence, profile changes). Its sockets
 * go through the Baileys adapter (adaptSocket) exactly as real ones do: that is what makes the
 * simulation worth testing against.
 */
import { Boom } from '@hapi/boom'
import { HubError } from '../../core/errors.js'
import type { Log, SocketFactory, Timers } from '../../ports/socket.js'
import type { SimulatorControl } from '../../ports/whatsapp.js'
import { adaptSocket } from '../baileys/socket-adapter.js'
import type { AuthSource, BaileysLogger } from '../baileys/creds.js'
import { SimulatedSocket, type SimProfile } from './simulated-socket.js'

export interface SimulatorOptions {
  sessions: AuthSource
  log: Log
  logger: BaileysLogger
  timers: Timers
  random: () => number
  /** Default 20 s. */
  qrRotateMs?: number
  /** Default 6. */
  qrRefs?: number
  /** Delay before the first QR or the login of each socket. Default 0. */
  latencyMs?: number
}

export class Simulator implements SimulatorControl {
  private readonly live = new Map<number, SimulatedSocket>()
  private readonly profiles = new Map<number, SimProfile>()

  constructor(private readonly o: SimulatorOptions) {}

  readonly factory: SocketFactory = ({ instanceId, generation }) => {
    const auth = this.o.sessions.auth(instanceId)
    const sock: SimulatedSocket = new SimulatedSocket({
      creds: auth.state.creds,
      timers: this.o.timers,
      random: this.o.random,
      logger: this.o.logger,
      profile: () => this.profileOf(instanceId),
      qrRotateMs: this.o.qrRotateMs ?? 20_000,
      qrRefs: this.o.qrRefs ?? 6,
      latencyMs: this.o.latencyMs ?? 0,
      onClose: () => {
        if (this.live.get(instanceId) === sock) this.live.delete(instanceId)
      },
    })
    this.live.set(instanceId, sock)
    return adaptSocket(sock, generation, { saveCreds: auth.saveCreds, log: this.o.log })
  }

  async scan(instanceId: number): Promise<void> {
    this.socket(instanceId).scan(`Sim ${instanceId}`)
  }

  async close(instanceId: number, code: number, message: string): Promise<void> {
    this.socket(instanceId).end(new Boom(message, { statusCode: code }))
  }

  async online(instanceId: number, online: boolean): Promise<void> {
    this.socket(instanceId).setOnline(online)
  }

  async profile(
    instanceId: number,
    p: { name?: string; pictureUrl?: string | null; isBusiness?: boolean; businessName?: string },
  ): Promise<void> {
    const sock = this.socket(instanceId)
    const current = this.profileOf(instanceId)
    this.profiles.set(instanceId, {
      pictureUrl: p.pictureUrl === undefined ? current.pictureUrl : p.pictureUrl,
      isBusiness: p.isBusiness ?? current.isBusiness,
      businessName: p.businessName ?? current.businessName,
    })
    sock.profileChanged(p)
  }

  /** Whether the instance has a live simulated socket. */
  hasSocket(instanceId: number): boolean {
    return this.live.has(instanceId)
  }

  private profileOf(instanceId: number): SimProfile {
    return this.profiles.get(instanceId) ?? { pictureUrl: null, isBusiness: false, businessName: '' }
  }

  private socket(instanceId: number): SimulatedSocket {
    const sock = this.live.get(instanceId)
    if (sock === undefined) throw new HubError('conflict', 'Instance has no live socket')
    return sock
  }
}
