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
  /** The accounts whose webhooks the node delivers (absent from nodes of earlier versions). */
  webhooks?: number
  lastSeenAt: string
}

export class NodeDirectory {
  private timer: NodeJS.Timeout | null = null
  private soon: NodeJS.Timeout | null = null
  private cache: { at: number; nodes: NodeEntry[] } | null = null

  constructor(
    private readonly engine: Engine,
    readonly me: { id: string; inc: string; roles: readonly Role[] },
    private readonly counts: () => { instances: number; accounts: number; webhooks: number },
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

  /** The live nodes, this one first; cached for a second. */
  async list(): Promise<NodeEntry[]> {
    const now = this.clock.now()
    if (this.cache !== null && now - this.cache.at < 1000) return this.cache.nodes
    // One read at a time: a burst of placements reads the directory once.
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

  /** Placements made and not yet in the counts: this node's until its lease, others' until their heartbeat. */
  private reserved: { node: string; kind: 'instances' | 'accounts'; until: number }[] = []

  /**
   * The live worker holding the fewest leases of `kind` (ties: this node, then by id), or null.
   * `reserve`: the caller places one there now, so it counts one more for a second (by then the
   * lease is held here, or the other node has heartbeated its new count; a brief double count
   * after that is harmless).
   */
  async pickWorker(kind: 'instances' | 'accounts', opts: { reserve?: boolean } = {}): Promise<string | null> {
    const nodes = await this.list()
    // Read after the await: concurrent picks resume one by one and must see each other's reservations.
    const now = this.clock.now()
    this.reserved = this.reserved.filter((r) => r.until > now)
    const live = this.counts()
    // This node's own counts are current; the others' are as of their last heartbeat.
    const count = (n: NodeEntry) => (n.id === this.me.id ? live[kind] : n[kind]) + this.reserved.filter((r) => r.node === n.id && r.kind === kind).length
    const workers = nodes.filter((n) => n.roles.includes('worker'))
    if (workers.length === 0) return null
    let best = workers[0]!
    for (const n of workers) if (count(n) < count(best)) best = n
    if (opts.reserve === true) this.reserved.push({ node: best.id, kind, until: now + 1000 })
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
    const entry: NodeEntry = { id: this.me.id, inc: this.me.inc, roles: this.me.roles, instances: c.instances, accounts: c.accounts, webhooks: c.webhooks, lastSeenAt: new Date(this.clock.now()).toISOString() }
    await this.engine.nodes.put(K.node(this.me.id), JSON.stringify(entry))
  }
}
