/**
 * @module The webhook sender's series: deliveries by outcome and the pending backlog.
 */
import type { Registry } from 'prom-client'
import { counterOf, gaugeOf, one } from './series.js'

export interface WebhookCounts {
  delivered: number
  /** Failed attempts that will be retried. */
  retried: number
  dead: number
  pending: number
}

export function webhookSeries(registry: Registry, stats: () => WebhookCounts): void {
  counterOf(registry, {
    name: 'statushub_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: `delivered`, `retried` (failed, will be retried), `dead` (dead-lettered).',
    labelNames: ['result'],
    read: () => {
      const s = stats()
      return [
        { labels: { result: 'delivered' }, value: s.delivered },
        { labels: { result: 'retried' }, value: s.retried },
        { labels: { result: 'dead' }, value: s.dead },
      ]
    },
  })
  gaugeOf(registry, {
    name: 'statushub_webhook_pending',
    help: 'Webhook deliveries not yet delivered or dead-lettered.',
    labelNames: [],
    read: () => one(stats().pending),
  })
}
