/**
 * @module Leases in the engine's TTL bucket (sh_leases): a socket lease per instance, a writer
 * lease per account. A lease is taken with a create (only one node can), renewed with a
 * compare-and-set on its revision every TTL/3, and given back with a compare-and-set delete.
 *
 * Self-fencing: a lease counts as held only until `renewedAt + TTL × 5/6`, where renewedAt is when
 * the last successful renewal was *sent* (not answered): the engine expires it at the earliest TTL
 * after that, and only then can another node take it, so the holder has given it up first
 * (`onLost`) whether or not the engine can be reached. Renewals go every TTL/4: two may fail before
 * the fence. 2.9 sends no event when a key expires: takers notice by reading.
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream'
import type { KV } from '@nats-io/kv'
import type { Logger } from 'pino'
import type { Clock } from '../ports/clock.js'

export interface LeaseValue {
  node: string
  /** The node process's incarnation: a restarted node never mistakes its old lease for its own. */
  inc: string
  at: number
}

interface Held {
  rev: number
  renewedAt: number
  renewing: boolean
}

export class Leases {
  private readonly held = new Map<string, Held>()
  private readonly lostListeners: ((key: string) => void)[] = []
  private readonly gainedListeners: ((key: string) => void)[] = []
  private timer: NodeJS.Timeout | null = null
  private fenceTimer: NodeJS.Timeout | null = null
  /** How long after a renewal was sent the lease is given up unless renewed again. */
  readonly fenceMs: number

  constructor(
    private readonly kv: KV,
    private readonly me: { node: string; inc: string },
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.fenceMs = ttlMs - Math.max(250, Math.floor(ttlMs / 6))
  }

  start(): void {
    this.timer = setInterval(() => void this.renewAll(), Math.max(250, Math.floor(this.ttlMs / 4)))
    this.fenceTimer = setInterval(() => this.fence(), 100)
    this.timer.unref()
    this.fenceTimer.unref()
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    if (this.fenceTimer !== null) clearInterval(this.fenceTimer)
  }

  onLost(fn: (key: string) => void): void {
    this.lostListeners.push(fn)
  }

  /** Called synchronously when this node takes a lease (before whatever took it goes on). */
  onGained(fn: (key: string) => void): void {
    this.gainedListeners.push(fn)
  }

  /** Whether this node holds `key` now (within its fenced time). */
  holds(key: string): boolean {
    const h = this.held.get(key)
    return h !== undefined && this.clock.now() < h.renewedAt + this.fenceMs
  }

  /** The revision of a held lease (writers fold it into their message ids). */
  revision(key: string): number | null {
    return this.held.get(key)?.rev ?? null
  }

  count(prefix: string): number {
    let n = 0
    for (const k of this.held.keys()) if (k.startsWith(prefix)) n++
    return n
  }

  keys(prefix: string): string[] {
    return [...this.held.keys()].filter((k) => k.startsWith(prefix))
  }

  /** Takes `key` if no node holds it. True when this node holds it afterwards. */
  async acquire(key: string): Promise<boolean> {
    if (this.holds(key)) return true
    const sentAt = this.clock.now()
    try {
      const rev = await this.kv.create(key, this.value())
      this.held.set(key, { rev, renewedAt: sentAt, renewing: false })
      this.emit(this.gainedListeners, key, 'lease gain listener failed')
      return true
    } catch (err) {
      if (isWrongSequence(err)) return false
      throw err
    }
  }

  /** The keys under `prefix` that some node holds in the engine now (one read of the bucket's keys). */
  async heldInEngine(prefix: string): Promise<Set<string>> {
    const out = new Set<string>()
    for await (const k of await this.kv.keys(`${prefix}>`)) out.add(k)
    return out
  }

  /** Who holds `key` in the engine now, or null. */
  async holder(key: string): Promise<LeaseValue | null> {
    const e = await this.kv.get(key)
    if (e === null || e.operation !== 'PUT') return null
    return e.json<LeaseValue>()
  }

  /** Gives `key` back so another node can take it at once (handover). */
  async release(key: string): Promise<void> {
    const h = this.held.get(key)
    if (h === undefined) return
    this.held.delete(key)
    try {
      await this.kv.delete(key, { previousSeq: h.rev })
    } catch (err) {
      // Renewed meanwhile or already taken: either way, it expires by itself.
      this.log.debug({ err, key }, 'lease release refused')
    }
  }

  /** Forgets `key` without touching the engine (a fenced append proved another node writes). */
  drop(key: string): void {
    if (this.held.delete(key)) this.emit(this.lostListeners, key, 'lease loss listener failed')
  }

  private value(): string {
    return JSON.stringify({ node: this.me.node, inc: this.me.inc, at: this.clock.now() } satisfies LeaseValue)
  }

  private async renewAll(): Promise<void> {
    const jobs: Promise<void>[] = []
    for (const [key, h] of this.held) {
      if (h.renewing) continue
      h.renewing = true
      jobs.push(this.renew(key, h).finally(() => (h.renewing = false)))
      if (jobs.length >= 64) await Promise.allSettled(jobs.splice(0))
    }
    await Promise.allSettled(jobs)
  }

  private async renew(key: string, h: Held): Promise<void> {
    const sentAt = this.clock.now()
    try {
      const rev = await this.kv.update(key, this.value(), h.rev, Math.max(500, Math.floor(this.ttlMs / 4)))
      if (this.held.get(key) !== h) return
      h.rev = rev
      h.renewedAt = sentAt
    } catch (err) {
      if (isWrongSequence(err)) {
        // Expired and taken (or deleted) meanwhile: it is someone else's now.
        if (this.held.get(key) === h) this.drop(key)
        return
      }
      this.log.warn({ err, key }, 'lease renewal failed; retrying until the fence')
    }
  }

  private fence(): void {
    const now = this.clock.now()
    for (const [key, h] of this.held) {
      if (now >= h.renewedAt + this.fenceMs) {
        this.log.warn({ key, sinceRenewalMs: now - h.renewedAt }, 'lease not renewed in time: giving it up (self-fence)')
        this.drop(key)
      }
    }
  }

  private emit(listeners: readonly ((key: string) => void)[], key: string, failed: string): void {
    for (const fn of listeners) {
      try {
        fn(key)
      } catch (err) {
        this.log.error({ err, key }, failed)
      }
    }
  }
}

export function isWrongSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence
}
