/**
 * @module A Seat (ports/seat.ts) on one lease of the leases bucket: a worker takes it when no node
 * holds it (trying again every `scanMs`, so a dead holder's seat is taken within the lease TTL
 * plus a scan), renews it with its other leases, and is told it lost it when a renewal is refused
 * or not made in time (the self-fence, before the engine lets another node take it).
 */
import type { Logger } from 'pino'
import type { Seat, SeatHolder } from '../ports/seat.js'
import type { LeaseValue, Leases } from './leases.js'

export class LeaseSeat implements Seat {
  private holder: SeatHolder | null = null
  private held = false
  private trying = false
  private stopped = false
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly leases: Leases,
    readonly key: string,
    private readonly opts: { scanMs: number; eligible: boolean; what: string },
    private readonly log: Logger,
  ) {
    leases.onLost((k) => {
      if (k === key) this.lose()
    })
  }

  async start(holder: SeatHolder): Promise<void> {
    this.holder = holder
    if (!this.opts.eligible) return
    await this.scan()
    this.timer = setInterval(() => void this.scan(), this.opts.scanMs)
    this.timer.unref()
  }

  holds(): boolean {
    return this.held && this.leases.holds(this.key)
  }

  /** The node holding the seat in the engine now, or null. */
  occupant(): Promise<LeaseValue | null> {
    return this.leases.holder(this.key)
  }

  async release(): Promise<void> {
    this.stopped = true
    if (this.timer !== null) clearInterval(this.timer)
    if (!this.held) return
    this.lose()
    await this.leases.release(this.key)
  }

  private async scan(): Promise<void> {
    if (this.trying || this.held || this.stopped || this.holder === null) return
    this.trying = true
    try {
      if (!(await this.leases.acquire(this.key))) return
      if (this.stopped) return void (await this.leases.release(this.key))
      this.held = true
      this.log.info({ seat: this.key }, `this node is ${this.opts.what} now`)
      await this.holder.gained()
    } catch (err) {
      this.log.warn({ err, seat: this.key }, `taking the seat of ${this.opts.what} failed; trying again`)
      if (this.held) {
        this.lose()
        await this.leases.release(this.key).catch(() => undefined)
      }
    } finally {
      this.trying = false
    }
  }

  private lose(): void {
    if (!this.held) return
    this.held = false
    this.log.info({ seat: this.key }, `this node is no longer ${this.opts.what}`)
    this.holder?.lost()
  }
}
