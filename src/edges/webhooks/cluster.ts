/**
 * @module The webhook edge of a cluster node (spec/webhooks.md "Guarantees": in cluster mode the
 * outbox is derived from the acknowledged change stream by a durable consumer, idempotent by
 * `webhook-id`; spec/cluster.md: any node serves any request, a dead node's work continues).
 *
 * One worker at a time holds the deliverer's seat and delivers every webhook of the cluster, with
 * the embedded hub's sender over an outbox in memory. It plans rows from the change stream (the
 * same rows, ids and bodies as the embedded planner: planner.ts), with the settings the stream
 * carries for each change, once this node has applied it. What must outlive it goes to the
 * ledger in the engine: per webhook a cursor (every row at or below it has settled), the dead
 * letters (and which were re-queued), and the resume point (the oldest change with a row still
 * pending). The next holder restores the letters, reads the stream again from the resume point
 * and plans again every row past its webhook's cursor that is not a letter: a delivery pending
 * when a deliverer died is sent again with the same `webhook-id` (at least once). Per webhook,
 * rows are planned in seq order, so order holds across a takeover.
 *
 * Every node mounts the deliveries endpoints; a node that does not hold the seat asks the one that
 * does (`remote`), which answers through `here`.
 */
import type { Logger } from 'pino'
import { withWebhookDisabled } from '../../core/config-updates.js'
import { HubError } from '../../core/errors.js'
import type { InstanceConfig } from '../../core/integrations.js'
import type { Commands } from '../../hub/commands.js'
import type { InstanceView, Principal } from '../../hub/model.js'
import type { ChangeFeed, FedChange, FeedGap } from '../../ports/change-feed.js'
import type { Clock } from '../../ports/clock.js'
import type { Edge } from '../../ports/edge.js'
import type { Delivery, DeliveryDesk, DeliveryStatus, WorkingOutbox } from '../../ports/outbox.js'
import { counterOf, gaugeOf, one } from '../metrics/series.js'
import { webhookSeries } from '../metrics/webhook-series.js'
import type { Seat } from '../../ports/seat.js'
import type { WebhookLedger } from '../../ports/webhook-ledger.js'
import { isStateChange } from '../../protocol/instance-state.js'
import type { Router } from '../http/route.js'
import { WebhookClient, type PostClient } from './client.js'
import type { WebhookSettings } from './index.js'
import { planRows } from './planner.js'
import { deliveryRoutes } from './routes.js'
import { Sender, type SenderHub, type SenderStats } from './sender.js'

const PRUNE_EVERY_MS = 60_000
/** How often the resume point is brought forward. */
const RESUME_EVERY_MS = 1000
/** After a failed read of the change stream: read again from where it stopped this much later. */
const FOLLOW_RETRY_MS = 1000
/** A clean stop waits this long at most for the ledger to take the last cursors. */
const STOP_FLUSH_MS = 5000

export interface ClusterWebhookHub {
  instance(id: number): InstanceView | undefined
  instancesOf(accountId: number): InstanceView[]
  resolveInstance(p: Principal, ref: string): InstanceView
}

export interface ClusterWebhookDeps {
  hub: ClusterWebhookHub
  /** Where a 410's disable and a missing signing secret go (the account's writer). */
  commands: Pick<Commands, 'updateConfig'>
  seat: Seat
  feed: ChangeFeed
  ledger: WebhookLedger
  /** The deliveries endpoints' answers from the node holding the seat, when it is another one. */
  remote: DeliveryDesk
  newOutbox: () => WorkingOutbox
  router: Router
  cfg: WebhookSettings
  clock: Clock
  log: Logger
  /** Tests may pass their own; by default Node's fetch with the address guard (one per tenure). */
  client?: () => PostClient
}

export interface ClusterWebhookStats extends SenderStats {
  /** Whether this node delivers the cluster's webhooks now. */
  delivering: boolean
  /** Webhooks found, at a takeover, to have changes older than the stream keeps past their cursor. */
  notKept: number
}

export interface ClusterWebhookEdge extends Edge {
  /** The answers this node gives the others while it holds the seat (unavailable otherwise). */
  readonly here: DeliveryDesk
  stats(): ClusterWebhookStats
}

/** One holding of the seat, from gained to lost. */
interface Tenure {
  stopped: boolean
  /** A clean stop has begun: catch-up must not start following again meanwhile. */
  stopping: boolean
  /** Caught up with the stream: the outbox holds every pending row. */
  ready: boolean
  epoch: string
  outbox: WorkingOutbox
  sender: Sender
  follow: { stop(): void } | null
  /** Per `<instanceId>/<label>`: every row at or below this seq has settled (this epoch). */
  cursors: Map<string, number>
  /** Ids of the deliveries with a letter in the ledger. */
  letters: Set<string>
  /** The position after the last change seen. */
  next: number
  resumeWritten: number
  timers: NodeJS.Timeout[]
}

export function clusterWebhookEdge(deps: ClusterWebhookDeps): ClusterWebhookEdge {
  const { hub, commands, seat, feed, ledger, cfg, log } = deps
  const wlog = log.child({ mod: 'webhooks' })
  const newClient = deps.client ?? (() => new WebhookClient({ timeoutMs: cfg.webhookTimeoutMs, allowPrivate: cfg.webhookAllowPrivate }))
  let current: Tenure | null = null
  let notKept = 0
  const spent = { delivered: 0, retried: 0, dead: 0 }

  // ---- the settings the sender changes: routed to the writer, disabled here at once -------------

  /** Per instance, the labels a 410 disabled whose change this node has not applied yet. */
  const gone = new Map<number, Map<string, number>>()
  const askedSecrets = new Set<number>()
  const senderHub: SenderHub = {
    instance(id) {
      const inst = hub.instance(id)
      const labels = gone.get(id)
      if (inst === undefined || labels === undefined) return inst
      let config = inst.config as InstanceConfig
      for (const label of labels.keys()) config = withWebhookDisabled(config, label)
      return { config }
    },
    disableWebhook(id, label) {
      const labels = gone.get(id) ?? new Map<string, number>()
      gone.set(id, labels)
      labels.set(label, (labels.get(label) ?? 0) + 1)
      void commands
        .updateConfig(id, { kind: 'webhookGone', label })
        .catch((err) => wlog.warn({ err, instanceId: id, label }, 'disabling a webhook after 410 failed; its next delivery asks again'))
        .finally(() => {
          const n = (labels.get(label) ?? 1) - 1
          if (n > 0) labels.set(label, n)
          else labels.delete(label)
          if (labels.size === 0 && gone.get(id) === labels) gone.delete(id)
        })
    },
    giveSigningSecrets(id) {
      if (askedSecrets.has(id)) return
      askedSecrets.add(id)
      void commands
        .updateConfig(id, { kind: 'signingSecrets' })
        .catch((err) => wlog.warn({ err, instanceId: id }, 'giving a webhook its signing secret failed; asking again at its next delivery'))
        .finally(() => askedSecrets.delete(id))
    },
  }

  // ---- the deliveries endpoints -------------------------------------------------------------------

  const holding = (): Tenure => {
    const t = current
    if (t === null || !t.ready || !seat.holds()) throw new HubError('unavailable', 'This node is not (or not yet) the one delivering webhooks; retry')
    return t
  }
  const here: DeliveryDesk = {
    // The body never leaves the deliverer: the list does not show it.
    list: async (id, filter) => holding().outbox.list(id, filter).map((d) => ({ ...d, body: null })),
    requeue: async (id, labels) => holding().sender.requeue(id, labels),
  }
  deliveryRoutes(deps.router, hub, () => (current?.ready === true && seat.holds() ? here : deps.remote))

  // ---- a tenure -------------------------------------------------------------------------------------

  const key = (instanceId: number, label: string) => `${instanceId}/${label}`

  const forget = (t: Tenure, instanceId: number): void => {
    t.sender.forgetInstance(instanceId)
    const dropped = t.outbox.forgetInstance(instanceId)
    for (const d of dropped) t.letters.delete(d.id)
    let kept = dropped.length > 0
    for (const k of [...t.cursors.keys()]) {
      if (k.startsWith(`${instanceId}/`)) {
        t.cursors.delete(k)
        kept = true
      }
    }
    if (kept) ledger.forgetInstance(instanceId)
  }

  const onChange = (t: Tenure, c: FedChange): void => {
    if (t.stopped || c.position < t.next) return
    t.next = c.position + 1
    const r = c.record
    if (r.kind === 'removed') return forget(t, r.instanceId)
    // Deleted since (its removal follows in the stream): nothing to deliver for it.
    if (hub.instance(r.instanceId) === undefined) return
    if (!isStateChange(r.kind, r.changes)) {
      if (r.kind === 'diff') t.sender.configChanged(r.instanceId, Object.keys(c.config.webhooks))
      return
    }
    const rows = planRows(r, c.config)?.filter((row) => (t.cursors.get(key(row.instanceId, row.label)) ?? -1) < row.seq && !t.letters.has(row.id))
    if (rows === undefined || rows.length === 0) return
    t.sender.planned(rows)
    t.outbox.insert(rows, c.position)
    t.sender.committed(rows)
  }

  const onTransition = (t: Tenure, d: Delivery, from: DeliveryStatus, to: DeliveryStatus | null): void => {
    if (t.stopped) return
    if (to === 'dead') {
      ledger.putLetter(d)
      t.letters.add(d.id)
    } else if (to === 'pending' && from === 'dead') {
      ledger.putLetter(d)
    } else if ((to === 'delivered' || to === null) && t.letters.has(d.id)) {
      ledger.deleteLetter(d.instanceId, d.id)
      t.letters.delete(d.id)
    }
    if (from === 'pending' && to !== null) {
      const n = t.outbox.settledThrough(d.instanceId, d.label)
      const k = key(d.instanceId, d.label)
      if (n !== null && n > (t.cursors.get(k) ?? -1)) {
        t.cursors.set(k, n)
        ledger.putCursor(d.instanceId, d.label, { epoch: t.epoch, seq: n })
      }
    }
  }

  const onGap = (t: Tenure, g: FeedGap): void => {
    for (const inst of hub.instancesOf(g.accountId)) {
      for (const w of Object.values(inst.config.webhooks)) {
        if (!w.enabled) continue
        const cursor = t.cursors.get(key(inst.id, w.label))
        if (cursor !== undefined && cursor >= g.firstKeptSeq - 1) continue
        notKept++
        wlog.warn(
          { instance: inst.name, label: w.label, settledThrough: cursor ?? null, firstKeptSeq: g.firstKeptSeq, webhooksSoFar: notKept },
          'the change stream no longer keeps some changes of this account past the webhook’s cursor: any instance.state among them was not delivered',
        )
      }
    }
  }

  const keepResume = (t: Tenure): void => {
    const position = t.outbox.lowestPendingOrigin() ?? t.next
    if (position <= t.resumeWritten) return
    t.resumeWritten = position
    ledger.putResume({ epoch: t.epoch, position })
  }

  const prune = (t: Tenure): void => {
    try {
      t.sender.prune()
      for (const id of t.outbox.instanceIds()) if (hub.instance(id) === undefined) forget(t, id)
    } catch (err) {
      wlog.error({ err }, 'webhook outbox prune failed')
    }
  }

  const follow = (t: Tenure): void => {
    feed.follow(t.next, (c) => onChange(t, c), (g) => onGap(t, g)).then(
      (handle) => {
        if (t.stopped || t.stopping) return handle.stop()
        t.follow = handle
        t.ready = true
        wlog.info({ from: t.next, pending: t.sender.stats().pending, letters: t.letters.size }, 'webhook deliverer caught up with the change stream')
      },
      (err) => {
        if (t.stopped || t.stopping) return
        wlog.warn({ err, from: t.next }, 'reading the change stream for webhooks failed; reading on from where it stopped')
        const retry = setTimeout(() => !t.stopped && !t.stopping && follow(t), FOLLOW_RETRY_MS)
        retry.unref()
        t.timers.push(retry)
      },
    )
  }

  const end = (t: Tenure): void => {
    if (t.stopped) return
    t.stopped = true
    t.ready = false
    t.follow?.stop()
    for (const timer of t.timers) clearInterval(timer)
    const s = t.sender.stats()
    spent.delivered += s.delivered
    spent.retried += s.retried
    spent.dead += s.dead
    void t.sender.stop()
  }

  const gained = async (): Promise<void> => {
    const state = await ledger.load()
    if (!seat.holds()) return
    const epoch = feed.epoch
    const outbox = deps.newOutbox()
    const t: Tenure = {
      stopped: false,
      stopping: false,
      ready: false,
      epoch,
      outbox,
      sender: new Sender(outbox, senderHub, newClient(), cfg, deps.clock, wlog),
      follow: null,
      cursors: new Map(),
      letters: new Set(),
      next: 0,
      resumeWritten: 0,
      timers: [],
    }
    outbox.watch((d, from, to) => onTransition(t, d, from, to))
    // Letters of instances deleted meanwhile (their account, say) go with them.
    const letters = state.letters.filter((d) => hub.instance(d.instanceId) !== undefined)
    for (const id of new Set(state.letters.map((d) => d.instanceId))) if (hub.instance(id) === undefined) ledger.forgetInstance(id)
    outbox.restore(letters)
    for (const d of letters) t.letters.add(d.id)
    for (const [k, c] of state.cursors) if (c.epoch === epoch) t.cursors.set(k, c.seq)
    let from: number
    if (state.resume !== null && state.resume.epoch === epoch) from = state.resume.position
    else {
      // No deliverer ever ran: from now on. A new epoch: the whole new stream.
      from = state.resume === null ? feed.next() : 1
      if (state.resume !== null) wlog.warn({ from: state.resume.epoch, to: epoch }, 'the change stream was made again (a new epoch): webhook deliveries pending in the old one went with it')
      ledger.putResume({ epoch, position: from })
      await ledger.flush()
      if (!seat.holds()) return
    }
    t.next = from
    t.resumeWritten = from
    current = t
    t.sender.start()
    t.timers.push(setInterval(() => keepResume(t), RESUME_EVERY_MS), setInterval(() => prune(t), PRUNE_EVERY_MS))
    for (const timer of t.timers) timer.unref()
    prune(t)
    follow(t)
  }

  const lost = (): void => {
    const t = current
    current = null
    // Writes not sent yet would only repeat what the next deliverer reads for itself.
    ledger.discard()
    if (t !== null) end(t)
  }

  return {
    name: 'webhooks',
    here,
    stats() {
      const t = current
      const s = t?.sender.stats() ?? { delivered: 0, retried: 0, dead: 0, pending: 0, held: 0 }
      return { delivered: spent.delivered + s.delivered, retried: spent.retried + s.retried, dead: spent.dead + s.dead, pending: s.pending, held: s.held, delivering: t?.ready === true && seat.holds(), notKept }
    },
    metrics(registry) {
      const read = () => this.stats()
      webhookSeries(registry, read)
      gaugeOf(registry, { name: 'statushub_webhook_deliverer', help: 'Cluster mode: 1 on the node delivering the cluster’s webhooks now, else 0.', labelNames: [], read: () => one(read().delivering ? 1 : 0) })
      counterOf(registry, { name: 'statushub_webhook_not_kept_total', help: 'Cluster mode: webhooks found at a takeover to have changes the change stream no longer keeps.', labelNames: [], read: () => one(read().notKept) })
    },
    async start() {
      await seat.start({ gained, lost })
    },
    async stop() {
      const t = current
      if (t !== null) {
        // A clean handover: what is in flight ends here, then the cursors and the resume point as far as they got.
        t.stopping = true
        t.ready = false
        t.follow?.stop()
        await t.sender.drain(Math.min(cfg.webhookTimeoutMs, STOP_FLUSH_MS))
        keepResume(t)
        await Promise.race([ledger.flush(), new Promise((r) => setTimeout(r, STOP_FLUSH_MS).unref())])
      }
      await seat.release()
      if (current !== null) lost()
    },
  }
}
