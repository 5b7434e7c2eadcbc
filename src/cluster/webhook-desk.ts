/**
 * @module The deliveries endpoints on a node that does not deliver webhooks (ports/outbox.ts
 * DeliveryDesk): asked of the node holding the deliverer's seat, over the cluster's node-to-node
 * requests, so every node answers the list and a retry alike.
 */
import { HubError } from '../core/errors.js'
import type { Delivery, DeliveryDesk, DeliveryStatus } from '../ports/outbox.js'
import { NodeUnreachable, type Rpc } from './rpc.js'
import type { LeaseSeat } from './seat.js'

export const NO_DELIVERER = 'No node delivers webhooks right now (another takes over within HUB_LEASE_TTL_MS); retry'

export class HolderDesk implements DeliveryDesk {
  constructor(
    private readonly seat: LeaseSeat,
    private readonly rpc: Rpc,
  ) {}

  list(instanceId: number, filter: { label?: string; status?: DeliveryStatus; limit: number }): Promise<Delivery[]> {
    return this.call('webhookDeliveries', { instanceId, filter })
  }

  requeue(instanceId: number, labels: readonly string[]): Promise<number> {
    return this.call('webhookRetry', { instanceId, labels })
  }

  private async call<T>(op: string, args: unknown): Promise<T> {
    const holder = await this.seat.occupant()
    if (holder === null) throw new HubError('unavailable', NO_DELIVERER)
    try {
      return await this.rpc.call<T>(holder.node, op, args)
    } catch (err) {
      if (err instanceof NodeUnreachable) throw new HubError('unavailable', NO_DELIVERER)
      throw err
    }
  }
}
