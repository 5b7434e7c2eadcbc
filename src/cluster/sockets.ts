/**
 * @module WhatsApp sockets across the cluster: each instance's socket is driven by the worker
 * holding its socket lease (`s.<id>`). The lifecycle endpoints on any node reach that worker by
 * request; an instance with no socket is placed on the least-loaded live worker when it needs one
 * (connect, reconnect, a restore) — never at create. Workers scan for instances that should have a
 * socket and have none (their node died or stopped renewing): the least-loaded takes them over,
 * says so in the status (`failover`), and reconnects from the saved session.
 *
 * Hazard: a worker that loses a socket lease (self-fence, or handover) ends that socket without a
 * status change or a session write: the new owner reports the instance from then on.
 */
import type { Logger } from 'pino'
import type { Engine } from '../adapters/nats/engine.js'
import { HubError } from '../core/errors.js'
import type { StatusPatch } from '../core/status.js'
import { failoverPatch } from '../core/whatsapp/status-patch.js'
import type { Hub } from '../hub/hub.js'
import type { Clock } from '../ports/clock.js'
import type { ConnectResult, InstanceRef, Liveness, RestoredInstance, SimNetworkMode, SimulatorControl, WhatsAppControl } from '../ports/whatsapp.js'
import type { ConnectionState } from '../core/status.js'
import type { WhatsAppSupervisor } from '../sources/whatsapp/supervisor.js'
import { K } from './keys.js'
import type { Leases } from './leases.js'
import type { NodeDirectory } from './nodes.js'
import { NodeUnreachable, type Rpc } from './rpc.js'

/** A SIGTERM handover waits this long at most for its `failover` statuses to be written. */
const HANDOVER_STATUS_MS = 5000

/** The socket lease is held elsewhere, or was lost: the caller looks again. */
class NotHolder extends Error {
  override name = 'NotHolder'
}

/** What this node's sessions can say (the KV session store). */
export interface ClusterSessions {
  restorable(): number[]
  release(instanceId: number): void
}

export interface ClusterSocketsDeps {
  engine: Engine
  hub: Hub
  /** This node's supervisor: null on an edge-only node. */
  wa: WhatsAppSupervisor | null
  sessions: ClusterSessions | null
  leases: Leases
  rpc: Rpc
  nodes: NodeDirectory
  /** Patches for an instance this node drives (the failover reason). */
  writeStatus: (instanceId: number, patch: StatusPatch) => void
  /** Resolves once the patches asked for so far are written. */
  statusWritten: () => Promise<void>
  clock: Clock
  log: Logger
  leaseTtlMs: number
  /** How often workers look for instances without a socket. */
  scanMs: number
  /** The simulated WhatsApp's shared world (simulated mode only): answers `conflicts` on any node. */
  simConflicts: (() => Promise<number>) | null
}

type WaOp =
  | { op: 'connect'; inst: InstanceRef; opts: { number?: string; timeoutMs: number } }
  | { op: 'reconnect'; inst: InstanceRef }
  | { op: 'logout'; inst: InstanceRef }
  | { op: 'remove'; instanceId: number }
  | { op: 'settings'; inst: InstanceRef }
  | { op: 'sim'; instanceId: number; call: SimCall }
  | { op: 'handover'; instanceId: number }
  | { op: 'liveness'; instanceId: number }
  /** Rebalancing: the busiest worker lets one of its sockets go and names it. */
  | { op: 'shed' }

type SimCall =
  | { name: 'scan' }
  | { name: 'close'; code: number; message: string }
  | { name: 'online'; online: boolean }
  | { name: 'profile'; p: Parameters<SimulatorControl['profile']>[1] }
  | { name: 'silence'; ms: number }

const NO_LIVENESS: Liveness = { lastFrameAt: null }
/** A history read waits this long for the driving node's answer. */
const LIVENESS_WAIT_MS = 1000

/** Ops that start a socket: with no holder, the least-loaded worker takes the lease and runs them. */
const PLACES = new Set<WaOp['op']>(['connect', 'reconnect', 'logout', 'remove'])

export class ClusterSockets implements WhatsAppControl {
  readonly simulator: SimulatorControl | null
  private scanTimer: NodeJS.Timeout | null = null
  private scanning = false
  private closed = false
  /** When this node last took an instance from a busier one: at most one move per TTL. */
  private lastMove: number

  constructor(private readonly d: ClusterSocketsDeps) {
    this.simulator = d.simConflicts !== null ? this.simControl(d.simConflicts) : null
    // A node that just joined settles for one TTL before it asks for a share.
    this.lastMove = d.clock.now()
    d.leases.onLost((key) => {
      if (!key.startsWith('s.')) return
      // A node that lost a lease (paused, cut off) settles like a newcomer before it asks for more.
      this.lastMove = d.clock.now()
      const id = Number(key.slice(2))
      void this.relinquish(id)
    })
  }

  start(): void {
    if (this.d.wa === null) return
    this.scanTimer = setInterval(() => void this.scan(), this.d.scanMs)
    this.scanTimer.unref()
  }

  // ---- WhatsAppControl ------------------------------------------------------------------------

  connect(inst: InstanceRef, opts: { number?: string; timeoutMs: number }): Promise<ConnectResult> {
    return this.route(inst.id, { op: 'connect', inst, opts }) as Promise<ConnectResult>
  }

  reconnect(inst: InstanceRef): Promise<ConnectionState> {
    return this.route(inst.id, { op: 'reconnect', inst }) as Promise<ConnectionState>
  }

  logout(inst: InstanceRef): Promise<{ unlinkSent: boolean }> {
    return this.route(inst.id, { op: 'logout', inst }) as Promise<{ unlinkSent: boolean }>
  }

  async remove(instanceId: number): Promise<void> {
    await this.route(instanceId, { op: 'remove', instanceId })
  }

  settingsChanged(inst: InstanceRef): void {
    void this.route(inst.id, { op: 'settings', inst }).catch((err) => this.d.log.debug({ err, instance: inst.id }, 'settings not passed on to a socket'))
  }

  /** Only the node driving the socket knows: asked once, briefly; no answer reads as unknown (null). */
  liveness(instanceId: number): Liveness | Promise<Liveness> {
    if (this.d.wa !== null && this.d.leases.holds(K.socketLease(instanceId))) return this.d.wa.liveness(instanceId)
    return (this.routeOnce(instanceId, { op: 'liveness', instanceId }, LIVENESS_WAIT_MS) as Promise<Liveness | null>)
      .then((l) => l ?? NO_LIVENESS)
      .catch(() => NO_LIVENESS)
  }

  /** At start the scan restores: a node never takes every instance it finds in the snapshot. */
  restore(_instances: RestoredInstance[]): void {}

  /**
   * Ends this node's sockets and hands their leases over, so others reconnect them at once. Until
   * the next owner's socket is live the status says so: `connecting`, reason `failover`, written
   * while this node still holds the lease (the next owner's own failover patch is then no change).
   */
  async shutdown(): Promise<void> {
    this.closed = true
    if (this.scanTimer !== null) clearInterval(this.scanTimer)
    const held = this.d.leases.keys('s.')
    await this.d.wa?.shutdown()
    let said = 0
    for (const key of held) {
      const id = Number(key.slice(2))
      const state = this.d.hub.stateOf(id)
      if (state !== 'connected' && state !== 'connecting') continue
      this.d.writeStatus(id, failoverPatch(this.d.nodes.me.id))
      said++
    }
    await Promise.race([this.d.statusWritten(), new Promise((r) => setTimeout(r, HANDOVER_STATUS_MS).unref())])
    this.d.log.info({ sockets: held.length, failover: said }, 'handing the sockets over: each says connecting (failover) until its new socket is live')
    await Promise.allSettled(held.map((k) => this.d.leases.release(k)))
  }

  /** Instances whose socket this node drives. */
  get driving(): number {
    return this.d.leases.count('s.')
  }

  // ---- routing --------------------------------------------------------------------------------

  private async route(instanceId: number, req: WaOp): Promise<unknown> {
    const deadline = this.d.clock.now() + this.d.leaseTtlMs + 10_000
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.routeOnce(instanceId, req)
      } catch (err) {
        if (!(err instanceof NotHolder || err instanceof NodeUnreachable)) throw err
        if (this.d.clock.now() > deadline) throw new HubError('unavailable', 'No node can drive this instance right now; retry')
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)))
      }
    }
  }

  private async routeOnce(instanceId: number, req: WaOp, timeoutMs = waitFor(req)): Promise<unknown> {
    const key = K.socketLease(instanceId)
    if (this.d.leases.holds(key)) return this.runHere(req, false)
    const holder = await this.d.leases.holder(key)
    const me = this.d.nodes.me
    if (holder !== null) {
      // This node's previous incarnation: its lease runs out within the TTL.
      if (holder.node === me.id) throw new NotHolder()
      return this.d.rpc.call(holder.node, 'wa', { req, place: false }, timeoutMs)
    }
    if (!PLACES.has(req.op)) {
      if (req.op === 'sim') throw new HubError('conflict', 'Instance has no live socket')
      return null
    }
    const target = await this.d.nodes.pickWorker('instances', { reserve: true })
    if (target === null) throw new HubError('unavailable', 'No worker node is running: no socket can be started')
    if (target === me.id) return this.runHere(req, true)
    return this.d.rpc.call(target, 'wa', { req, place: true }, waitFor(req))
  }

  /** The `wa` request another node sends. */
  handle(m: { req: WaOp; place: boolean }): Promise<unknown> {
    return this.runHere(m.req, m.place)
  }

  private async runHere(req: WaOp, place: boolean): Promise<unknown> {
    const wa = this.d.wa
    if (wa === null || this.closed) throw new NotHolder()
    if (req.op === 'shed') return this.shed()
    const id = req.op === 'remove' || req.op === 'sim' || req.op === 'handover' || req.op === 'liveness' ? req.instanceId : req.inst.id
    const key = K.socketLease(id)
    if (!this.d.leases.holds(key)) {
      if (!place || !(await this.take(id))) throw new NotHolder()
    }
    switch (req.op) {
      case 'connect':
        return wa.connect(req.inst, req.opts)
      case 'reconnect':
        return wa.reconnect(req.inst)
      case 'logout': {
        const out = await wa.logout(req.inst)
        // Logged out: no socket left to drive, so the lease goes back.
        await this.let(id)
        return out
      }
      case 'remove':
        await wa.remove(id)
        await this.let(id)
        return null
      case 'settings':
        wa.settingsChanged(req.inst)
        return null
      case 'handover':
        await this.let(id)
        return null
      case 'sim':
        return this.runSim(id, req.call)
      case 'liveness':
        return wa.liveness(id)
    }
  }

  /** Takes the socket lease and records this node as the instance's owner. */
  private async take(instanceId: number): Promise<boolean> {
    if (!(await this.d.leases.acquire(K.socketLease(instanceId)))) return false
    this.d.nodes.touch()
    await this.d.engine.state.put(K.lastOwner(instanceId), this.d.nodes.me.id)
    return true
  }

  /** Ends this node's socket of the instance and gives its lease back. */
  private async let(instanceId: number): Promise<void> {
    await this.d.wa?.relinquish(instanceId)
    this.d.sessions?.release(instanceId)
    await this.d.leases.release(K.socketLease(instanceId))
    this.d.nodes.touch()
  }

  /** The lease was lost (self-fence): end the socket quietly. */
  private async relinquish(instanceId: number): Promise<void> {
    this.d.log.warn({ instance: instanceId }, 'socket lease lost: ending this node’s socket')
    await this.d.wa?.relinquish(instanceId)
    this.d.sessions?.release(instanceId)
    this.d.nodes.touch()
  }

  // ---- failover -------------------------------------------------------------------------------

  /**
   * Instances that should have a socket (a paired session to restore, not logged out) and whose
   * socket lease nobody holds: taken over, one scan at a time, by the least-loaded worker.
   */
  async scan(): Promise<void> {
    if (this.scanning || this.closed || this.d.wa === null || this.d.sessions === null || !this.d.engine.connected()) return
    this.scanning = true
    try {
      const wanted = this.d.sessions.restorable().filter((id) => {
        const state = this.d.hub.stateOf(id)
        return state !== undefined && state !== 'loggedout'
      })
      if (wanted.length === 0) return
      const held = await this.d.leases.heldInEngine('s.')
      const orphans = wanted.filter((id) => !held.has(K.socketLease(id)))
      for (const id of orphans) {
        if (this.closed) return
        // Spread by count: only the least-loaded worker takes the next one.
        if ((await this.d.nodes.pickWorker('instances')) !== this.d.nodes.me.id) return
        await this.takeOver(id)
      }
      if (orphans.length === 0) await this.rebalance()
    } catch (err) {
      this.d.log.warn({ err }, 'failover scan failed')
    } finally {
      this.scanning = false
    }
  }

  /**
   * A worker that joined (or came back) takes a fair share over time: when the busiest worker
   * drives at least two more sockets than this one and this one is the least loaded, one socket
   * moves here, at most one per TTL per node, so no rebalance drops many numbers at once.
   */
  private async rebalance(): Promise<void> {
    const now = this.d.clock.now()
    if (now - this.lastMove < this.d.leaseTtlMs) return
    const me = this.d.nodes.me.id
    const mine = this.driving
    const others = (await this.d.nodes.list()).filter((n) => n.id !== me && n.roles.includes('worker'))
    const busiest = others.reduce<(typeof others)[number] | null>((b, n) => (b === null || n.instances > b.instances ? n : b), null)
    if (busiest === null || busiest.instances - mine < 2) return
    if ((await this.d.nodes.pickWorker('instances')) !== me) return
    this.lastMove = now
    const id = (await this.d.rpc.call(busiest.id, 'wa', { req: { op: 'shed' }, place: false }, 30_000)) as number | null
    if (id !== null && !this.closed) await this.takeOver(id, 'rebalance')
  }

  /** The `shed` request: lets this node's most recently placed socket go, for the asking node. */
  private async shed(): Promise<number | null> {
    const keys = this.d.leases.keys('s.')
    if (keys.length < 2) return null
    const id = Number(keys[keys.length - 1]!.slice(2))
    this.d.log.info({ instance: id }, 'handing a socket to a less-loaded worker')
    await this.let(id)
    return id
  }

  private async takeOver(id: number, cause: 'stopped' | 'rebalance' = 'stopped'): Promise<void> {
    const inst = this.d.hub.instance(id)
    if (inst === undefined) return
    if (!(await this.d.leases.acquire(K.socketLease(id)))) return
    this.d.nodes.touch()
    const previous = await this.d.engine.state.get(K.lastOwner(id))
    const was = previous !== null && previous.operation === 'PUT' ? previous.string() : null
    await this.d.engine.state.put(K.lastOwner(id), this.d.nodes.me.id)
    if (was !== null && was !== this.d.nodes.me.id) this.d.writeStatus(id, failoverPatch(was, cause))
    this.d.log.info({ instance: id, from: was }, 'took the instance over')
    this.d.wa!.restore([{ id, name: inst.name, settings: inst.config.settings, proxy: inst.config.proxy, state: inst.status.state }])
  }

  // ---- the simulator, on the node with the socket ---------------------------------------------

  private simControl(conflicts: () => Promise<number>): SimulatorControl {
    const sim = (instanceId: number, call: SimCall) => this.route(instanceId, { op: 'sim', instanceId, call }) as Promise<void>
    return {
      scan: (id) => sim(id, { name: 'scan' }),
      close: (id, code, message) => sim(id, { name: 'close', code, message }),
      online: (id, online) => sim(id, { name: 'online', online }),
      profile: (id, p) => sim(id, { name: 'profile', p }),
      silence: (id, ms) => sim(id, { name: 'silence', ms }),
      network: (id, mode) => this.network(id, mode),
      conflicts,
    }
  }

  private async runSim(instanceId: number, call: SimCall): Promise<void> {
    const s = this.d.wa?.simulator
    if (s === null || s === undefined) throw new HubError('notFound', 'Not found')
    switch (call.name) {
      case 'scan':
        return s.scan(instanceId)
      case 'close':
        return s.close(instanceId, call.code, call.message)
      case 'online':
        return s.online(instanceId, call.online)
      case 'profile':
        return s.profile(instanceId, call.p)
      case 'silence':
        return s.silence(instanceId, call.ms)
    }
  }

  /** The network mode applies to the next sockets, wherever they open: every worker learns it. */
  private async network(instanceId: number, mode: SimNetworkMode): Promise<void> {
    const workers = (await this.d.nodes.list()).filter((n) => n.roles.includes('worker'))
    await Promise.all(
      workers.map((n) =>
        n.id === this.d.nodes.me.id ? this.d.wa?.simulator?.network(instanceId, mode) : this.d.rpc.call(n.id, 'simNetwork', { instanceId, mode }),
      ),
    )
  }

  /** The `simNetwork` request: this worker's simulator only. */
  async simNetwork(a: { instanceId: number; mode: SimNetworkMode }): Promise<void> {
    await this.d.wa?.simulator?.network(a.instanceId, a.mode)
  }
}

/** How long a routed lifecycle call may take: a connect waits for its QR. */
function waitFor(req: WaOp): number {
  return req.op === 'connect' ? req.opts.timeoutMs + 5000 : 30_000
}
