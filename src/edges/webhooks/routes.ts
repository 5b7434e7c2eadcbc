/**
 * @module The deliveries of one instance's webhooks (TokenAccount or the instance's own token):
 * `GET /api/events/webhookDeliveries/:instance[?label=&status=&limit=]`, newest first (default 50,
 * at most 500), and `POST /api/events/webhookDeliveries/:instance/retry` (`{}` or `{"label":"…"}`),
 * which re-queues the dead ones. A delivery never shows its body, the authorization or the secret.
 */
import { HubError } from '../../core/errors.js'
import type { InstanceView, Principal } from '../../hub/model.js'
import type { Delivery, OutboxStore } from '../../ports/outbox.js'
import { deliveriesQuery, deliveryRetryBody, describeIssue } from '../../protocol/rest-bodies.js'
import { sendOk } from '../http/http.js'
import type { Router } from '../http/route.js'
import { parseBody } from '../http/routes/parse.js'
import type { Sender } from './sender.js'
import { webhookOf } from '../../core/integrations.js'

export interface RoutesHub {
  resolveInstance(p: Principal, ref: string): InstanceView
}

export function deliveryRoutes(r: Router, hub: RoutesHub, outbox: OutboxStore, sender: Sender): void {
  r.add('get', '/api/events/webhookDeliveries/:instance', {}, (ctx, p) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    const parsed = deliveriesQuery.safeParse(Object.fromEntries(['label', 'status', 'limit'].flatMap((k) => (ctx.query.has(k) ? [[k, ctx.query.get(k)]] : []))))
    if (!parsed.success) throw new HubError('invalid', describeIssue(parsed.error))
    const { label, status, limit } = parsed.data
    if (label !== undefined) knownLabel(inst, label)
    const deliveries = outbox.list(inst.id, { label, status, limit }).map(deliveryJson)
    sendOk(ctx, `${deliveries.length} deliveries found`, { deliveries })
  })

  r.add('post', '/api/events/webhookDeliveries/:instance/retry', { body: true }, (ctx, p, body) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    const b = parseBody(deliveryRetryBody, body)
    let labels: string[]
    if (b.label !== undefined) {
      if (!knownLabel(inst, b.label).enabled) throw new HubError('conflict', `Webhook "${b.label}" is disabled: enable it before retrying its deliveries`)
      labels = [b.label]
    } else {
      labels = Object.values(inst.config.webhooks)
        .filter((w) => w.enabled)
        .map((w) => w.label)
    }
    const requeued = sender.requeue(inst.id, labels)
    sendOk(ctx, `${requeued} deliveries re-queued`, { requeued })
  })
}

function knownLabel(inst: InstanceView, label: string) {
  const hook = webhookOf(inst.config, label)
  if (hook === undefined) throw new HubError('notFound', 'Webhook not found')
  return hook
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

function deliveryJson(d: Delivery) {
  return {
    id: d.id,
    label: d.label,
    event: d.event,
    seq: d.seq,
    version: d.version,
    status: d.status,
    attempts: d.attempts,
    createdAt: iso(d.createdAt),
    lastAttemptAt: iso(d.lastAttemptAt),
    lastError: d.lastError,
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
  }
}
