/**
 * @module The StatusWriter a worker's supervisor writes through: each instance's patches, in order,
 * to the account's writer (this node or another), one batch in flight per instance. Only while this
 * node holds the instance's socket lease: a node that lost it (a zombie resuming, a handover) must
 * not report a socket it no longer drives, so its late patches are dropped.
 */
import type { Logger } from 'pino'
import type { StatusPatch } from '../core/status.js'
import type { Hub } from '../hub/hub.js'
import type { StatusWriter } from '../ports/whatsapp.js'
import type { ClusterCommands } from './commands.js'
import { K } from './keys.js'
import type { Leases } from './leases.js'

/** Patches waiting per instance; past it the oldest are dropped (the newest state wins). */
const MAX_QUEUED = 1000

export class ClusterStatusWriter implements StatusWriter {
  private readonly queues = new Map<number, StatusPatch[]>()
  private stopped = false

  constructor(
    private readonly hub: Hub,
    private readonly commands: ClusterCommands,
    private readonly leases: Leases,
    private readonly log: Logger,
  ) {}

  updateStatus(instanceId: number, patch: StatusPatch): void {
    if (this.stopped || !this.leases.holds(K.socketLease(instanceId))) return
    const accountId = this.hub.instance(instanceId)?.accountId
    if (accountId === undefined) return
    const q = this.queues.get(instanceId)
    if (q !== undefined) {
      q.push(patch)
      if (q.length > MAX_QUEUED) q.splice(0, q.length - MAX_QUEUED)
      return
    }
    this.queues.set(instanceId, [patch])
    void this.drain(accountId, instanceId)
  }

  /** Resolves once every queued patch is written (a clean stop waits for it). */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await new Promise((r) => setTimeout(r, 10))
  }

  stop(): void {
    this.stopped = true
  }

  private async drain(accountId: number, instanceId: number): Promise<void> {
    const q = this.queues.get(instanceId)!
    try {
      while (q.length > 0) {
        const batch = q.splice(0, 50)
        // Checked again per batch: a node paused with patches queued wakes up without the lease.
        if (!this.leases.holds(K.socketLease(instanceId))) {
          q.length = 0
          break
        }
        try {
          await this.commands.status(accountId, instanceId, batch)
        } catch (err) {
          this.log.warn({ err, instance: instanceId, patches: batch.length }, 'status patches could not be written; the next ones carry the state')
        }
      }
    } finally {
      this.queues.delete(instanceId)
    }
  }
}
