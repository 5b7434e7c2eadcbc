/**
 * @module The webhook edge: plans one outbox row per `instance.state` change and enabled webhook
 * of the instance (whose `events` is empty or names `instance.state`), hands the rows to the
 * hub's write-behind while the change is being published, so they commit in the change's own
 * transaction, and runs the sender over the committed rows. It mounts the deliveries endpoints.
 *
 * Subscribed from construction, before the WhatsApp source restores its sockets, so no change
 * of a start goes unplanned; the sender starts with the edge.
 */
import type { Logger } from 'pino'
import { withSigningSecrets, withWebhookDisabled } from '../../core/config-updates.js'
import type { InstanceConfig } from '../../core/integrations.js'
import type { AccountView, InstanceView, Principal } from '../../hub/model.js'
import type { ChangeBus, ChangeRecord } from '../../ports/bus.js'
import type { Clock } from '../../ports/clock.js'
import type { Edge } from '../../ports/edge.js'
import type { DeliveryDesk, OutboxStore } from '../../ports/outbox.js'
import type { WriteBehind } from '../../ports/store.js'
import { isStateChange } from '../../protocol/instance-state.js'
import type { Router } from '../http/route.js'
import { webhookSeries } from '../metrics/webhook-series.js'
import { WebhookClient, type PostClient } from './client.js'
import { deliveryRoutes } from './routes.js'
import { planRows } from './planner.js'
import { Sender, type SenderConfig, type SenderHub, type SenderStats } from './sender.js'
import { newSigningSecret } from './signing.js'

const PRUNE_EVERY_MS = 60_000

export interface WebhookSettings extends SenderConfig {
  webhookTimeoutMs: number
  webhookAllowPrivate: boolean
}

/** What the edge reads and writes of the hub. */
export interface WebhookHub {
  instance(id: number): InstanceView | undefined
  updateConfig(id: number, config: InstanceConfig): InstanceView
  resolveInstance(p: Principal, ref: string): InstanceView
  accounts(): AccountView[]
  instancesOf(accountId: number): InstanceView[]
}

export interface WebhookDeps {
  hub: WebhookHub
  writeBehind: WriteBehind
  outbox: OutboxStore
  bus: ChangeBus
  router: Router
  cfg: WebhookSettings
  clock: Clock
  log: Logger
  /** Tests may pass their own; by default Node's fetch with the address guard. */
  client?: PostClient
}

export interface WebhookEdge extends Edge {
  /** Counters since start (the metrics edge reads them at scrape time) and the pending gauge. */
  stats(): SenderStats
  /** Drops settled deliveries past the kept counts (runs every minute); returns how many. */
  prune(): number
}

export function webhookEdge(deps: WebhookDeps): WebhookEdge {
  const { hub, writeBehind, outbox, cfg, log } = deps
  const client = deps.client ?? new WebhookClient({ timeoutMs: cfg.webhookTimeoutMs, allowPrivate: cfg.webhookAllowPrivate })
  const senderHub: SenderHub = {
    instance: (id) => hub.instance(id),
    disableWebhook: (id, label) => void hub.updateConfig(id, withWebhookDisabled(hub.instance(id)!.config as InstanceConfig, label)),
    giveSigningSecrets: (id) => void hub.updateConfig(id, withSigningSecrets(hub.instance(id)!.config as InstanceConfig, newSigningSecret)),
  }
  const sender = new Sender(outbox, senderHub, client, cfg, deps.clock, log.child({ mod: 'webhooks' }))
  const desk: DeliveryDesk = {
    list: async (id, filter) => outbox.list(id, filter),
    requeue: async (id, labels) => sender.requeue(id, labels),
  }
  deliveryRoutes(deps.router, hub, () => desk)

  const onChange = (r: ChangeRecord): void => {
    if (r.kind === 'removed') return sender.forgetInstance(r.instanceId)
    const inst = hub.instance(r.instanceId)
    if (inst === undefined) return
    if (!isStateChange(r.kind, r.changes)) {
      // Only settings change an item without a state change.
      if (r.kind === 'diff') sender.configChanged(r.instanceId, Object.keys(inst.config.webhooks))
      return
    }
    const rows = planRows(r, inst.config)
    if (rows === null) return
    const planned = rows
    sender.planned(planned)
    // Hazard: the rows share the change's transaction only while no subscriber before this one
    // flushes the write-behind inside the same publish.
    writeBehind.attach(planned, () => sender.committed(planned))
  }
  const unsubscribe = deps.bus.subscribe({ onChange, onRevoke: () => {} })
  let pruneTimer: NodeJS.Timeout | null = null

  const prune = (): number => {
    try {
      return sender.prune()
    } catch (err) {
      log.error({ err }, 'webhook outbox prune failed')
      return 0
    }
  }

  return {
    name: 'webhooks',
    stats: () => sender.stats(),
    prune,
    metrics(registry) {
      webhookSeries(registry, () => sender.stats())
    },
    start() {
      // Webhooks enabled before signing existed: a secret now, shown only by a rotate.
      for (const a of hub.accounts()) {
        for (const inst of hub.instancesOf(a.id)) {
          const next = withSigningSecrets(inst.config as InstanceConfig, newSigningSecret)
          if (next !== inst.config) hub.updateConfig(inst.id, next)
        }
      }
      prune()
      sender.start()
      pruneTimer = setInterval(prune, PRUNE_EVERY_MS)
      pruneTimer.unref()
    },
    async stop() {
      unsubscribe()
      if (pruneTimer !== null) clearInterval(pruneTimer)
      await sender.stop()
    },
  }
}
