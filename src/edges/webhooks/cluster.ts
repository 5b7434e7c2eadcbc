/**
 * @module The webhook edge of a cluster node (spec/webhooks.md "Guarantees": in cluster mode the
 * outbox is derived from the acknowledged change stream by a durable consumer, idempotent by
 * `webhook-id`; spec/cluster.md: any node serves any request, a dead node's work continues).
 *
 * Each account's webhooks are delivered by the account's writer (Writerships): the node that
 * orders its changes delivers them, once cluster-wide and in order per webhook. Its tenure of an
 * account lasts as long as its writer lease. This node's accounts share one sender (one bound on
 * concurrent deliveries) and one outbox in memory; rows are planned from the account's changes in
 * the stream (the same rows, ids and bodies as the embedded planner: planner.ts), with the
 * settings the stream carries for each change, once this node has applied it. What must outlive
 * a tenure goes to the account's ledger in the engine: per webhook a cursor (every row at or below
 * it has settled), the dead letters (and which were re-queued), and the resume point (the oldest
 * change of the account with a row still pending). The account's next writer restores the
 * letters, reads the account's changes again from the resume point and plans again every row past
 * its webhook's cursor that is not a letter: a delivery pending when a writer died is sent again
 * with the same `webhook-id` (at least once). Per webhook, rows are planned in seq order, so order
 * holds across a takeover.
 *
 * An account whose writer died has none until its next change, or until a worker's scan finds it
 * has webhooks and no writer and claims it (every `scanMs`): a backlog never waits for a change.
 * The deliveries endpoints of any node are answered by the account's writer (`remote`, through
 * the writer routing), which answers through `here`.
 */
import type { Logger } from 'pino'
import { withWebhookDisabled } from '../../core/config-updates.js'
import { HubError, MSG } from '../../core/errors.js'
import type { InstanceConfig } from '../../core/integrations.js'
import type { Commands } from '../../hub/commands.js'
import type { InstanceView, Principal } from '../../hub/model.js'
import type { ChangeFeed, FedChange, FeedGap } from '../../ports/change-feed.js'
import type { Clock } from '../../ports/clock.js'
import type { Edge } from '../../ports/edge.js'
import type { Delivery, DeliveryDesk, DeliveryStatus, WorkingOutbox } from '../../ports/outbox.js'
import type { WebhookLedger } from '../../ports/webhook-ledger.js'
import type { Writerships } from '../../ports/writerships.js'
import { isStateChange } from '../../protocol/instance-state.js'
import type { Router } from '../http/route.js'
import { counterOf, gaugeOf, one } from '../metrics/series.js'
import { webhookSeries } from '../metrics/webhook-series.js'
import { WebhookClient, type PostClient } from './client.js'
import type { WebhookSettings } from './index.js'
import { planRows } from './planner.js'
import { deliveryRoutes } from './routes.js'
import { Sender, type SenderHub, type SenderStats } from './sender.js'

const PRUNE_EVERY_MS = 60_000
/** How often the resume points are brought forward. */
const RESUME_EVERY_MS = 1000
/** After a failed read of the ledger or the change stream: read again this much later. */
const FOLLOW_RETRY_MS = 1000
/** A clean stop waits this long at most for the ledgers to take the last cursors. */
const STOP_FLUSH_MS = 5000
/** The deliveries endpoints wait this long at most for a tenure just begun to catch up. */
const READY_WAIT_MS = 10_000
/** Accounts one scan claims at most (the others are left to the next scan, or to other workers). */
const CLAIMS_PER_SCAN = 16

export interface ClusterWebhookHub {
  instance(id: number): InstanceView | undefined
  instancesOf(accountId: number): InstanceView[]
  accounts(): readonly { id: number }[]
  resolveInstance(p: Principal, ref: string): InstanceView
}

export interface ClusterWebhookDeps {
  hub: ClusterWebhookHub
  /** Where a 410's disable and a missing signing secret go (the account's writer: this node). */
  commands: Pick<Commands, 'updateConfig'>
  writerships: Writerships
  feed: ChangeFeed
  ledgerOf: (accountId: number) => WebhookLedger
  /** The deliveries endpoints' answers from the account's writer, wherever it is. */
  remote: DeliveryDesk
  outbox: WorkingOutbox
  router: Router
  cfg: WebhookSettings
  clock: Clock
  log: Logger
  /** How often a worker looks for accounts with webhooks and no writer. */
  scanMs: number
  /** Tests may pass their own; by default Node's fetch with the address guard. */
  client?: PostClient
}

export interface ClusterWebhookStats extends SenderStats {
  /** The accounts whose webhooks this node delivers now (caught up). */
  delivering: number
  /** Webhooks found, at a takeover, to have changes older than the stream keeps past their cursor. */
  notKept: number
}

export interface ClusterWebhookEdge extends Edge {
  /** The answers this node gives for the accounts it writes (unavailable for the others). */
  readonly here: DeliveryDesk
  stats(): ClusterWebhookStats
}

/** One account's deliveries on this node, from its writer lease gained to lost. */
interface Tenure {
  accountId: number
  ledger: WebhookLedger
  stopped: boolean
  /** A clean stop has begun: catch-up must not start following again meanwhile. */
  stopping: boolean
  /** Caught up with the stream: the outbox holds every pending row of the account. */
  ready: boolean
  whenReady: (() => void)[]
  follow: { stop(): void } | null
  /** Per `<instanceId>/<label>`: every row at or below this seq has settled (this epoch). */
  cursors: Map<string, number>
  /** Ids of the deliveries with a letter in the ledger. */
  letters: Set<string>
  /** The position after the account's last change seen. */
  next: number
  /** Where the first tenure of an account ever starts: the stream's next position when its lease was taken. */
  startAt: number
  resumeWritten: number
  retry: NodeJS.Timeout | null
}

export function clusterWebhookEdge(deps: ClusterWebhookDeps): ClusterWebhookEdge {
  const { hub, commands, writerships, feed, outbox, cfg, log } = deps
  const wlog = log.child({ mod: 'webhooks' })
  const epoch = feed.epoch
  const tenures = new Map<number, Tenure>()
  /** The account of every instance with rows in the outbox (its tenure's). */
  const owner = new Map<number, number>()
  let notKept = 0
  let stopping = false
  let stopped: Promise<void> | null = null
  const timers: NodeJS.Timeout[] = []

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

  const sender = new Sender(outbox, senderHub, deps.client ?? new WebhookClient({ timeoutMs: cfg.webhookTimeoutMs, allowPrivate: cfg.webhookAllowPrivate }), cfg, deps.clock, wlog)

  // ---- the deliveries endpoints -------------------------------------------------------------------

  const readyTenure = async (instanceId: number): Promise<Tenure> => {
    const inst = hub.instance(instanceId)
    if (inst === undefined) throw new HubError('notFound', MSG.instanceNotFound)
    const t = tenures.get(inst.accountId)
    if (t === undefined || t.stopped || t.stopping) throw new HubError('unavailable', 'This node no longer writes the account (another takes over within HUB_LEASE_TTL_MS); retry')
    if (!t.ready) {
      const caughtUp = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), READY_WAIT_MS)
        t.whenReady.push(() => (clearTimeout(timer), resolve(true)))
      })
      if (!caughtUp || t.stopped) throw new HubError('unavailable', 'The account’s webhook deliveries are still being read back; retry')
    }
    return t
  }
  const here: DeliveryDesk = {
    // The body never leaves the deliverer: the list does not show it.
    list: async (id, filter) => (await readyTenure(id), outbox.list(id, filter).map((d) => ({ ...d, body: null }))),
    requeue: async (id, labels) => (await readyTenure(id), sender.requeue(id, labels)),
  }
  const localReady = (instanceId: number): boolean => {
    const accountId = hub.instance(instanceId)?.accountId
    const t = accountId === undefined ? undefined : tenures.get(accountId)
    return t !== undefined && t.ready && writerships.holds(t.accountId)
  }
  const desk: DeliveryDesk = {
    list: (id, filter) => (localReady(id) ? here : deps.remote).list(id, filter),
    requeue: (id, labels) => (localReady(id) ? here : deps.remote).requeue(id, labels),
  }
  deliveryRoutes(deps.router, hub, () => desk)

  // ---- a tenure -------------------------------------------------------------------------------------

  const key = (instanceId: number, label: string) => `${instanceId}/${label}`

  /** Drops the instance's deliveries from this node (its outbox rows, its webhooks' attempts in flight); returns the rows. */
  const drop = (instanceId: number): Delivery[] => {
    sender.forgetInstance(instanceId)
    owner.delete(instanceId)
    return outbox.forgetInstance(instanceId)
  }

  /** The instance was deleted: what the account's ledger kept of it goes too. */
  const forget = (t: Tenure, instanceId: number): void => {
    const dropped = drop(instanceId)
    for (const d of dropped) t.letters.delete(d.id)
    let kept = dropped.length > 0
    for (const k of [...t.cursors.keys()]) {
      if (k.startsWith(`${instanceId}/`)) {
        t.cursors.delete(k)
        kept = true
      }
    }
    if (kept) t.ledger.forgetInstance(instanceId)
  }

  const onChange = (t: Tenure, c: FedChange): void => {
    if (t.stopped || c.position < t.next) return
    t.next = c.position + 1
    const r = c.record
    if (r.kind === 'removed') return forget(t, r.instanceId)
    // Deleted since (its removal follows in the stream): nothing to deliver for it.
    if (hub.instance(r.instanceId) === undefined) return
    if (!isStateChange(r.kind, r.changes)) {
      if (r.kind === 'diff') sender.configChanged(r.instanceId, Object.keys(c.config.webhooks))
      return
    }
    const rows = planRows(r, c.config)?.filter((row) => (t.cursors.get(key(row.instanceId, row.label)) ?? -1) < row.seq && !t.letters.has(row.id))
    if (rows === undefined || rows.length === 0) return
    owner.set(r.instanceId, t.accountId)
    sender.planned(rows)
    outbox.insert(rows, c.position)
    sender.committed(rows)
  }

  const onTransition = (d: Delivery, from: DeliveryStatus, to: DeliveryStatus | null): void => {
    const accountId = owner.get(d.instanceId)
    const t = accountId === undefined ? undefined : tenures.get(accountId)
    if (t === undefined || t.stopped) return
    if (to === 'dead') {
      t.ledger.putLetter(d)
      t.letters.add(d.id)
    } else if (to === 'pending' && from === 'dead') {
      t.ledger.putLetter(d)
    } else if ((to === 'delivered' || to === null) && t.letters.has(d.id)) {
      t.ledger.deleteLetter(d.instanceId, d.id)
      t.letters.delete(d.id)
    }
    if (from === 'pending' && to !== null) {
      const n = outbox.settledThrough(d.instanceId, d.label)
      const k = key(d.instanceId, d.label)
      if (n !== null && n > (t.cursors.get(k) ?? -1)) {
        t.cursors.set(k, n)
        t.ledger.putCursor(d.instanceId, d.label, { epoch, seq: n })
      }
    }
  }
  outbox.watch(onTransition)

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

  /** Each account's resume point, brought forward to its oldest change with a row still pending. */
  const keepResume = (): void => {
    const lowest = new Map<number, number>()
    for (const [instanceId, origin] of outbox.lowestPendingOrigins()) {
      const accountId = owner.get(instanceId)
      if (accountId !== undefined) lowest.set(accountId, Math.min(origin, lowest.get(accountId) ?? origin))
    }
    for (const t of tenures.values()) {
      if (t.stopped || t.resumeWritten === 0) continue
      const position = lowest.get(t.accountId) ?? t.next
      if (position <= t.resumeWritten) continue
      t.resumeWritten = position
      t.ledger.putResume({ epoch, position })
    }
  }

  const prune = (): void => {
    try {
      sender.prune()
      for (const id of outbox.instanceIds()) {
        if (hub.instance(id) !== undefined) continue
        const t = tenures.get(owner.get(id) ?? -1)
        if (t !== undefined) forget(t, id)
        else drop(id)
      }
    } catch (err) {
      wlog.error({ err }, 'webhook outbox prune failed')
    }
  }

  const later = (t: Tenure, fn: () => void): void => {
    t.retry = setTimeout(() => {
      t.retry = null
      if (!t.stopped && !t.stopping) fn()
    }, FOLLOW_RETRY_MS)
    t.retry.unref()
  }

  const follow = (t: Tenure): void => {
    feed.follow(t.accountId, t.next, (c) => onChange(t, c), (g) => onGap(t, g)).then(
      (handle) => {
        if (t.stopped || t.stopping) return handle.stop()
        t.follow = handle
        t.ready = true
        for (const fn of t.whenReady.splice(0)) fn()
        wlog.debug({ accountId: t.accountId, from: t.next, letters: t.letters.size }, 'webhook deliveries of the account caught up with the change stream')
      },
      (err) => {
        if (t.stopped || t.stopping) return
        wlog.warn({ err, accountId: t.accountId, from: t.next }, 'reading the change stream for webhooks failed; reading on from where it stopped')
        later(t, () => follow(t))
      },
    )
  }

  /** Restores what the account's ledger kept, then follows its changes from the resume point. */
  const begin = async (t: Tenure): Promise<void> => {
    let state
    try {
      state = await t.ledger.load()
    } catch (err) {
      wlog.warn({ err, accountId: t.accountId }, 'reading the account’s webhook ledger failed; reading it again')
      return later(t, () => void begin(t))
    }
    if (t.stopped || t.stopping) return
    // Letters of instances deleted meanwhile go with them.
    const letters = state.letters.filter((d) => hub.instance(d.instanceId) !== undefined)
    for (const id of new Set(state.letters.map((d) => d.instanceId))) if (hub.instance(id) === undefined) t.ledger.forgetInstance(id)
    for (const d of letters) {
      owner.set(d.instanceId, t.accountId)
      t.letters.add(d.id)
    }
    outbox.restore(letters)
    sender.adopt(new Set(letters.map((d) => d.instanceId)))
    for (const [k, c] of state.cursors) if (c.epoch === epoch) t.cursors.set(k, c.seq)
    let from: number
    if (state.resume !== null && state.resume.epoch === epoch) from = state.resume.position
    else {
      // No writer ever delivered for the account: from when this one took it. A new epoch: the whole new stream.
      from = state.resume === null ? t.startAt : 1
      if (state.resume !== null) wlog.warn({ accountId: t.accountId, from: state.resume.epoch, to: epoch }, 'the change stream was made again (a new epoch): webhook deliveries pending in the old one went with it')
      t.ledger.putResume({ epoch, position: from })
    }
    t.next = from
    t.resumeWritten = from
    follow(t)
  }

  /** This node's tenure of the account ends: nothing more of it is sent or kept from here. */
  const end = (t: Tenure): void => {
    if (t.stopped) return
    t.stopped = true
    t.ready = false
    t.follow?.stop()
    if (t.retry !== null) clearTimeout(t.retry)
    // Writes not sent yet would only repeat what the next writer reads for itself.
    t.ledger.discard()
    tenures.delete(t.accountId)
    for (const [instanceId, accountId] of [...owner]) if (accountId === t.accountId) drop(instanceId)
    for (const fn of t.whenReady.splice(0)) fn()
  }

  writerships.onGained((accountId) => {
    if (stopping || tenures.has(accountId)) return
    const t: Tenure = {
      accountId,
      ledger: deps.ledgerOf(accountId),
      stopped: false,
      stopping: false,
      ready: false,
      whenReady: [],
      follow: null,
      cursors: new Map(),
      letters: new Set(),
      next: 0,
      startAt: feed.next(),
      resumeWritten: 0,
      retry: null,
    }
    tenures.set(accountId, t)
    void begin(t)
  })
  writerships.onLost((accountId) => {
    const t = tenures.get(accountId)
    if (t !== undefined) end(t)
  })

  /** Accounts with an enabled webhook and no writer get one: their backlog never waits for a change. */
  let scanning = false
  const scan = async (): Promise<void> => {
    if (scanning || stopping) return
    scanning = true
    try {
      const wanted = hub
        .accounts()
        .map((a) => a.id)
        .filter((id) => !writerships.holds(id) && hub.instancesOf(id).some((i) => Object.values(i.config.webhooks).some((w) => w.enabled)))
      const free = await writerships.unwritten(wanted)
      for (const accountId of free.sort(() => Math.random() - 0.5).slice(0, CLAIMS_PER_SCAN)) {
        if (stopping) break
        await writerships.claim(accountId).catch((err) => wlog.debug({ err, accountId }, 'claiming an account without a writer failed; the next scan tries again'))
      }
    } catch (err) {
      wlog.debug({ err }, 'looking for accounts without a writer failed; the next scan looks again')
    } finally {
      scanning = false
    }
  }

  const readyCount = () => [...tenures.values()].filter((t) => t.ready && writerships.holds(t.accountId)).length

  return {
    name: 'webhooks',
    here,
    stats() {
      return { ...sender.stats(), delivering: readyCount(), notKept }
    },
    metrics(registry) {
      const read = () => this.stats()
      webhookSeries(registry, read)
      gaugeOf(registry, { name: 'statushub_webhook_deliverer', help: 'Cluster mode: the accounts whose webhooks this node delivers now (the accounts it writes).', labelNames: [], read: () => one(read().delivering) })
      counterOf(registry, { name: 'statushub_webhook_not_kept_total', help: 'Cluster mode: webhooks found at a takeover to have changes the change stream no longer keeps.', labelNames: [], read: () => one(read().notKept) })
    },
    async start() {
      sender.start()
      timers.push(setInterval(keepResume, RESUME_EVERY_MS), setInterval(prune, PRUNE_EVERY_MS))
      if (writerships.eligible) timers.push(setInterval(() => void scan(), deps.scanMs))
      for (const timer of timers) timer.unref()
    },
    /** A clean handover, before the writer leases are given back: what is in flight ends here, then the cursors and resume points as far as they got. */
    stop() {
      return (stopped ??= (async () => {
        stopping = true
        for (const timer of timers) clearInterval(timer)
        const all = [...tenures.values()]
        for (const t of all) {
          t.stopping = true
          t.ready = false
          t.follow?.stop()
        }
        await sender.drain(Math.min(cfg.webhookTimeoutMs, STOP_FLUSH_MS))
        keepResume()
        await Promise.race([Promise.all(all.map((t) => t.ledger.flush())), new Promise((r) => setTimeout(r, STOP_FLUSH_MS).unref())])
        for (const t of all) end(t)
      })())
    },
  }
}
