/**
 * @module The cluster's nodes: each node heartbeats its entry in sh_nodes (TTL = the lease TTL)
 * with its roles and how many leases it holds; an entry not renewed within the TTL is gone, and so
 * is the node as far as placement goes. `GET /api/admin/cluster` reads this.
 */
import type { Logger } from 'pino'
import type { Engine } from '../adapters/nats/engine.js'
import type { Clock } from '../ports/clock.js'
import { K } from './keys.js'

export type Role = 'worker' | 'edge'

export interface NodeEntry {
  id: string
  inc: string
  roles: readonly Role[]
  /** Socket leases held. */
  instances: number
  /** Writer leases held. */
  accounts: number
  lastSeenAt: string
}

export class NodeDirectory {
  private timer: NodeJS.Timeout | null = null
  private soon: NodeJS.Timeout | null = null
  private cache: { at: number; nodes: NodeEntry[] } | null = null

  constructor(
    private readonly engine: Engine,
    readonly me: { id: string; inc: string; roles: readonly Role[] },
    private readonly counts: () => { instances: number; accounts: number },
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.beat()
    this.timer = setInterval(() => void this.beat().catch((err) => this.log.warn({ err }, 'node heartbeat failed')), Math.max(250, Math.floor(this.engine.leaseTtlMs / 4)))
    this.timer.unref()
  }

  /** Removes this node's entry (a clean stop: placement stops counting it at once). */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    if (this.soon !== null) clearTimeout(this.soon)
    await this.engine.nodes.delete(K.node(this.me.id)).catch(() => undefined)
  }

  /** The live nodes, this one first; cached for a second (picks count on the cached copy). */
  async list(): Promise<NodeEntry[]> {
    const now = this.clock.now()
    if (this.cache !== null && now - this.cache.at < 1000) return this.cache.nodes
    // One read at a time: concurrent placements must count on the same copy (see pickWorker).
    this.reading ??= this.read(now).finally(() => (this.reading = null))
    return this.reading
  }

  private reading: Promise<NodeEntry[]> | null = null

  private async read(now: number): Promise<NodeEntry[]> {
    const nodes: NodeEntry[] = []
    for await (const key of await this.engine.nodes.keys()) {
      const e = await this.engine.nodes.get(key)
      if (e !== null && e.operation === 'PUT') nodes.push(e.json<NodeEntry>())
    }
    nodes.sort((a, b) => (a.id === this.me.id ? -1 : b.id === this.me.id ? 1 : a.id.localeCompare(b.id)))
    this.cache = { at: now, nodes }
    return nodes
  }

  /**
   * The live worker holding the fewest leases of `kind` (ties: this node, then by id), or null.
   * `reserve`: the caller places one there now, so it counts one more until its next heartbeat.
   */
  private selfReserved: { kind: 'instances' | 'accounts'; until: number }[] = []

  async pickWorker(kind: 'instances' | 'accounts', opts: { reserve?: boolean } = {}): Promise<string | null> {
    const nodes = await this.list()
    // Read after the await: concurrent picks resume one by one and must see each other's reservations.
    const now = this.clock.now()
    this.selfReserved = this.selfReserved.filter((r) => r.until > now)
    const live = { ...this.counts() }
    for (const r of this.selfReserved) live[r.kind]++
    // This node's own counts are current (plus placements not yet holding their lease); the
    // others' are as of their last heartbeat.
    const workers = nodes.filter((n) => n.roles.includes('worker')).map((n) => (n.id === this.me.id ? { ...n, ...live } : n))
    if (workers.length === 0) return null
    let best = workers[0]!
    for (const n of workers) if (n[kind] < best[kind]) best = n
    // Counted here at once: the next pick before its heartbeat must not land on it again.
    const cached = opts.reserve === true ? this.cache?.nodes.find((n) => n.id === best.id) : undefined
    if (cached !== undefined && cached.id !== this.me.id) cached[kind]++
    // Here, until the placed lease is taken (a brief double count after it is harmless).
    if (opts.reserve === true && best.id === this.me.id) this.selfReserved.push({ kind, until: now + 1000 })
    return best.id
  }

  /** This node's counts changed: tell the others soon (placement reads them). */
  touch(): void {
    if (this.soon !== null) return
    this.soon = setTimeout(() => {
      this.soon = null
      void this.beat().catch((err) => this.log.warn({ err }, 'node heartbeat failed'))
    }, 50)
    this.soon.unref()
  }

  private async beat(): Promise<void> {
    const c = this.counts()
    const entry: NodeEntry = { id: this.me.id, inc: this.me.inc, roles: this.me.roles, instances: c.instances, accounts: c.accounts, lastSeenAt: new Date(this.clock.now()).toISOString() }
    await this.engine.nodes.put(K.node(this.me.id), JSON.stringify(entry))
  }
}
