/**
 * @module Simulated mode: a socket factory of fake sockets plus SimulatorControl, which plays the
 * phone, the WhatsApp server and the network (scan, close with a code, presence confirmations,
 * profile changes, calls, network failures, silence). Its sockets go through the Baileys adapter
 * (adaptSocket) exactly as real ones do: that is what makes the simulation worth testing against,
 * and why this adapter imports the Baileys one (allowed by name in .dependency-cruiser.cjs).
 */
import { Boom } from '@hapi/boom'
import { HubError } from '../../core/errors.js'
import type { Log, SocketFactory, Timers, WaSocketPort } from '../../ports/socket.js'
import type { SimNetworkMode, SimulatorControl } from '../../ports/whatsapp.js'
import { adaptSocket } from '../baileys/socket-adapter.js'
import type { AuthSource, BaileysLogger } from '../baileys/creds.js'
import { DEFAULT_SIM_TIMING, SimulatedSocket, type SimProfile, type SimTiming } from './simulated-socket.js'
import { LocalSimWorld, type SimWorld } from './world.js'

export interface SimulatorOptions extends Partial<SimTiming> {
  sessions: AuthSource
  log: Log
  logger: BaileysLogger
  timers: Timers
  now: () => number
  random: () => number
  /** Which socket of each number is live; default: this process only. A cluster shares one. */
  world?: SimWorld
}

interface Live {
  sock: SimulatedSocket
  port: WaSocketPort
}

export class Simulator implements SimulatorControl {
  private readonly live = new Map<number, Live>()
  private readonly profiles = new Map<number, SimProfile>()
  private readonly networks = new Map<number, SimNetworkMode>()
  private readonly timing: SimTiming
  private readonly world: SimWorld
  private sockets = 0

  constructor(private readonly o: SimulatorOptions) {
    this.world = o.world ?? new LocalSimWorld()
    this.timing = { ...DEFAULT_SIM_TIMING }
    for (const k of Object.keys(DEFAULT_SIM_TIMING) as (keyof SimTiming)[]) if (o[k] !== undefined) this.timing[k] = o[k]
  }

  readonly factory: SocketFactory = ({ instanceId, generation, options }) => {
    const auth = this.o.sessions.auth(instanceId)
    const sockId = `${instanceId}.${generation}.${++this.sockets}.${Math.floor(this.o.random() * 1e9)}`
    const sock: SimulatedSocket = new SimulatedSocket({
      creds: auth.state.creds,
      timers: this.o.timers,
      now: this.o.now,
      random: this.o.random,
      logger: this.o.logger,
      profile: () => this.profileOf(instanceId),
      timing: this.timing,
      network: this.networks.get(instanceId) ?? 'ok',
      syncHistory: () => !options.settings().disableHistorySync,
      onOpen: () =>
        this.world.open(instanceId, sockId, {
          // What WhatsApp sends the older device (Baileys: DisconnectReason.connectionReplaced).
          replaced: () => sock.end(new Boom('Stream Errored (conflict)', { statusCode: 440 })),
          // Baileys' keep-alive giving up (DisconnectReason.connectionLost).
          dead: () => sock.end(new Boom('Connection was lost', { statusCode: 408 })),
        }),
      onClose: () => {
        this.world.close(instanceId, sockId)
        if (this.live.get(instanceId)?.sock === sock) this.live.delete(instanceId)
      },
    })
    // Simulated sockets never touch the network, so a proxy is not used; failures come from network().
    const port = adaptSocket(sock, generation, { saveCreds: auth.saveCreds, log: this.o.log, now: this.o.now, proxy: null, settings: options.settings })
    this.live.set(instanceId, { sock, port })
    return port
  }

  async scan(instanceId: number): Promise<void> {
    this.socket(instanceId).sock.scan()
  }

  async close(instanceId: number, code: number, message: string): Promise<void> {
    this.socket(instanceId).sock.end(new Boom(message, { statusCode: code }))
  }

  /**
   * WhatsApp taking a presence request of the hub's own: one presenceStatus change per call.
   * Refused while WhatsApp would ignore it (no push name yet, as rc.9 does).
   */
  async online(instanceId: number, online: boolean): Promise<void> {
    const sent = await this.socket(instanceId).port.setPresence(online ? 'available' : 'unavailable')
    if (!sent) throw new HubError('conflict', 'WhatsApp ignores presence until the push name is known (after the initial sync)')
  }

  /**
   * The phone changes the push name or the avatar (both reach the hub as Baileys reports them);
   * `isBusiness` and `businessName` are what WhatsApp holds: they show at the next pairing and the
   * next profile fetch, as with real Baileys.
   */
  async profile(
    instanceId: number,
    p: { name?: string; pictureUrl?: string | null; isBusiness?: boolean; businessName?: string },
  ): Promise<void> {
    const current = this.profileOf(instanceId)
    this.profiles.set(instanceId, {
      pictureUrl: p.pictureUrl === undefined ? current.pictureUrl : p.pictureUrl,
      isBusiness: p.isBusiness ?? current.isBusiness,
      businessName: p.businessName ?? current.businessName,
      pushName: p.name ?? current.pushName,
    })
    this.live.get(instanceId)?.sock.profileChanged(p)
  }

  async network(instanceId: number, mode: SimNetworkMode): Promise<void> {
    if (mode === 'ok') this.networks.delete(instanceId)
    else this.networks.set(instanceId, mode)
  }

  async silence(instanceId: number, ms: number): Promise<void> {
    this.socket(instanceId).sock.silence(ms)
  }

  /** An incoming call offer; returns the call id. */
  async call(instanceId: number, from: string): Promise<string> {
    return this.socket(instanceId).sock.incomingCall(from)
  }

  /** The times two live sockets of one number overlapped past the margin (cluster-wide in a cluster). */
  conflicts(): Promise<number> {
    return this.world.conflicts()
  }

  /** Whether the instance has a live simulated socket. */
  hasSocket(instanceId: number): boolean {
    return this.live.has(instanceId)
  }

  /** The live simulated socket (tests inspect what it was asked to do). */
  socketOf(instanceId: number): SimulatedSocket | undefined {
    return this.live.get(instanceId)?.sock
  }

  private profileOf(instanceId: number): SimProfile {
    return this.profiles.get(instanceId) ?? { pictureUrl: null, isBusiness: false, businessName: '', pushName: `Sim ${instanceId}` }
  }

  private socket(instanceId: number): Live {
    const live = this.live.get(instanceId)
    if (live === undefined) throw new HubError('conflict', 'Instance has no live socket')
    return live
  }
}
