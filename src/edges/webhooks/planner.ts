/**
 * @module The deliveries one change makes: one row per enabled webhook of the instance whose
 * `events` is empty or names `instance.state`, when the change is an `instance.state` event. The
 * embedded edge plans from the bus with the settings the hub holds at that change; the cluster's
 * deliverer plans from the change stream with the settings the stream carries for it: the same
 * rows, byte for byte, so a re-derivation yields the same `webhook-id` and body.
 */
import type { InstanceConfig } from '../../core/integrations.js'
import type { ChangeRecord } from '../../ports/bus.js'
import type { OutboxRow } from '../../ports/outbox.js'
import { isStateChange, stateEvent } from '../../protocol/instance-state.js'

export const EVENT = 'instance.state'

/** The `webhook-id` of the delivery of change `r` to webhook `label`. */
export function deliveryId(r: Pick<ChangeRecord, 'epoch' | 'accountId' | 'seq'>, label: string): string {
  return `msg_${r.epoch}_${r.accountId}_${r.seq}_${label}`
}

/** The rows change `r` makes for the webhooks of `config`, or null when it makes none. */
export function planRows(r: ChangeRecord, config: Pick<InstanceConfig, 'webhooks'>): OutboxRow[] | null {
  if (!isStateChange(r.kind, r.changes)) return null
  const hooks = config.webhooks
  let rows: OutboxRow[] | null = null
  let body: string | null = null
  for (const label in hooks) {
    const w = hooks[label]!
    if (!w.enabled || (w.events.length > 0 && !w.events.includes(EVENT))) continue
    body ??= JSON.stringify({ ...stateEvent(r), epoch: r.epoch, seq: r.seq, version: r.version })
    ;(rows ??= []).push({
      id: deliveryId(r, label),
      instanceId: r.instanceId,
      label,
      event: EVENT,
      epoch: r.epoch,
      seq: r.seq,
      version: r.version,
      body,
      createdAt: r.at,
    })
  }
  return rows
}
