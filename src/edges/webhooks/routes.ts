/**
 * @module The deliveries of one instance's webhooks (TokenAccount or the instance's own token):
 * `GET /api/events/webhookDeliveries/:instance[?label=&status=&limit=]`, newest first (default 50,
 * at most 500), and `POST /api/events/webhookDeliveries/:instance/retry` (`{}` or `{"label":"…"}`),
 * which re-queues the dead ones. A delivery never shows its body, the authorization or the secret.
 */
import { HubError } from '../../core/errors.js'
import type { InstanceView, Principal } from '../../hub/model.js'
import type { Delivery, DeliveryDesk } from '../../ports/outbox.js'
import { deliveriesQuery, deliveryRetryBody } from '../../protocol/rest-bodies.js'
import { deliveriesAnswer, deliveriesRequeued } from '../../protocol/rest-responses.js'
import { sendOk } from '../http/http.js'
import type { Router } from '../http/route.js'
import { webhookOf } from '../../core/integrations.js'

export interface RoutesHub {
  resolveInstance(p: Principal, ref: string): InstanceView
}

/** `desk` answers where the outbox is: this process, or the node delivering for a cluster. */
export function deliveryRoutes(r: Router, hub: RoutesHub, desk: () => DeliveryDesk): void {
  r.add(
    'get',
    '/api/events/webhookDeliveries/:instance',
    {
      tag: 'Webhooks',
      description: "The recent deliveries of the instance's webhooks, newest first (default 50, at most 500): never their body, the authorization or the secret.",
      query: deliveriesQuery,
      response: deliveriesAnswer,
    },
    async (ctx, p, _b, q) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    const { label, status, limit } = q
    if (label !== undefined) knownLabel(inst, label)
    const deliveries = (await desk().list(inst.id, { label, status, limit })).map(deliveryJson)
    sendOk(ctx, `${deliveries.length} deliveries found`, { deliveries })
    },
  )

  r.add(
    'post',
    '/api/events/webhookDeliveries/:instance/retry',
    {
      tag: 'Webhooks',
      description: 'Re-queues the dead deliveries of every enabled webhook of the instance, or of the one `label` names (409 when it is disabled).',
      body: deliveryRetryBody,
      response: deliveriesRequeued,
      errors: [409],
      example: { body: {} },
    },
    async (ctx, p, b) => {
    const inst = hub.resolveInstance(p, ctx.params[0]!)
    let labels: string[]
    if (b.label !== undefined) {
      if (!knownLabel(inst, b.label).enabled) throw new HubError('conflict', `Webhook "${b.label}" is disabled: enable it before retrying its deliveries`)
      labels = [b.label]
    } else {
      labels = Object.values(inst.config.webhooks)
        .filter((w) => w.enabled)
        .map((w) => w.label)
    }
    const requeued = await desk().requeue(inst.id, labels)
    sendOk(ctx, `${requeued} deliveries re-queued`, { requeued })
    },
  )
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
