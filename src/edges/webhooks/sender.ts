/**
 * @module The sender: delivers the outbox, per webhook in write order, one delivery in flight per
 * webhook and at most HUB_WEBHOOK_CONCURRENCY across all of them. It only ever sends rows that are
 * committed (it learns of them from the write-behind's commit callback, or from the store at
 * start), so nothing is delivered that a crash could take back. Memory holds, per webhook with
 * work, its counts and a window of at most WINDOW rows read from the store; the backlog stays on
 * disk.
 *
 * Answers: any 2xx delivers; 410 disables the webhook and dead-letters what is pending for it;
 * anything else (3xx included: redirects are not followed), timeouts, network errors and refused
 * addresses are retried with jittered exponential backoff until HUB_WEBHOOK_MAX_AGE_S after the
 * delivery was queued, then dead-lettered.
 */
import type { Logger } from 'pino'
import { webhookOf, type InstanceConfig, type WebhookConfig } from '../../core/integrations.js'
import { backoffDelay, type BackoffPolicy } from '../../core/whatsapp/backoff.js'
import type { Clock } from '../../ports/clock.js'
import type { Delivery, OutboxRow, OutboxStore } from '../../ports/outbox.js'
import type { PostClient, PostOutcome } from './client.js'
import { signature } from './signing.js'

/** Committed pending rows of one webhook held in memory at most. */
export const WINDOW = 16

/** Delivered rows kept per webhook for the deliveries list (its largest page). */
export const KEEP_DELIVERED = 500

export interface SenderConfig {
  webhookMaxAgeS: number
  webhookMaxPending: number
  webhookConcurrency: number
  webhookRetryBaseMs: number
  webhookRetryMaxMs: number
}

/**
 * What the sender reads and changes of the hub: the webhook settings, by instance id. The two
 * changes may take effect later (a cluster routes them to the account's writer); until then
 * `instance` already shows a disabled webhook as disabled.
 */
export interface SenderHub {
  instance(id: number): { readonly config: Readonly<InstanceConfig> } | undefined
  /** The receiver answered 410 Gone: the webhook is disabled, its URL kept. */
  disableWebhook(instanceId: number, label: string): void
  /** Every enabled webhook of the instance without a signing secret gets one. */
  giveSigningSecrets(instanceId: number): void
}

export interface SenderStats {
  delivered: number
  /** Failed attempts that will be retried. */
  retried: number
  /** Dead-lettered: retried past the age bound, dropped past the pending bound, or their webhook disabled. */
  dead: number
  /** Pending deliveries, committed or about to be. */
  pending: number
  /** Deliveries held in memory (at most WINDOW per webhook with work); the rest wait on disk. */
  held: number
}

interface Hook {
  readonly key: string
  readonly instanceId: number
  readonly label: string
  /** Committed pending rows (resynchronised from the store whenever a read sees them all). */
  pending: number
  /** Rows handed to the write-behind, not committed yet. */
  planned: number
  /** The oldest committed pending rows, in delivery order; [0] is the next to send. */
  window: Delivery[]
  inFlight: Delivery | null
  /** Ends the attempt in flight when the webhook is dropped (its instance deleted or handed over). */
  abort: AbortController | null
  timer: NodeJS.Timeout | null
  queued: boolean
  gone: boolean
}

const TIMER_MAX_MS = 2 ** 31 - 1
/** After a failed store write: try the webhook again this much later. */
const STORE_RETRY_MS = 1000

export class Sender {
  private readonly hooks = new Map<string, Hook>()
  private readonly ready: Hook[] = []
  private readonly inflight = new Set<Promise<void>>()
  private readonly stopping = new AbortController()
  private readonly policy: BackoffPolicy
  private active = 0
  private started = false
  private stopped = false
  private pumpScheduled = false
  private readonly counts = { delivered: 0, retried: 0, dead: 0 }

  constructor(
    private readonly outbox: OutboxStore,
    private readonly hub: SenderHub,
    private readonly client: PostClient,
    private readonly cfg: SenderConfig,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {
    this.policy = { baseMs: cfg.webhookRetryBaseMs, capMs: cfg.webhookRetryMaxMs }
  }

  stats(): SenderStats {
    let pending = 0
    let held = 0
    for (const h of this.hooks.values()) {
      pending += h.pending + h.planned
      held += h.window.length
    }
    return { ...this.counts, pending, held }
  }

  /** Picks up what the store holds from earlier runs. */
  start(): void {
    this.started = true
    this.adopt(null)
  }

  /** Picks up the pending rows of these instances put in the store behind the sender (restored); null: of all. */
  adopt(instanceIds: ReadonlySet<number> | null): void {
    for (const c of this.outbox.pendingCounts()) {
      if (instanceIds !== null && !instanceIds.has(c.instanceId)) continue
      const hook = this.hook(c.instanceId, c.label)
      hook.pending = c.pending
      if (hook.inFlight === null) hook.window = []
      this.trim(hook)
      this.enqueue(hook)
    }
    this.schedulePump()
  }

  /** Rows handed to the write-behind: counted now, sent once committed. */
  planned(rows: readonly OutboxRow[]): void {
    for (const r of rows) this.hook(r.instanceId, r.label).planned++
  }

  /** The write-behind committed `rows` (runs inside the hub's flush: only bookkeeping and one bounded write). */
  committed(rows: readonly OutboxRow[]): void {
    const touched = new Set<Hook>()
    for (const r of rows) {
      const hook = this.hooks.get(keyOf(r.instanceId, r.label))
      if (hook === undefined || hook.gone) continue
      hook.planned = Math.max(0, hook.planned - 1)
      hook.pending++
      touched.add(hook)
    }
    if (this.stopped) return
    for (const hook of touched) {
      this.trim(hook)
      // A webhook waiting out a retry keeps waiting: new rows queue behind its head.
      if (hook.timer === null) this.enqueue(hook)
    }
    this.schedulePump()
  }

  /** The instance was deleted (or its deliveries handed to another node): its outbox rows went with it. */
  forgetInstance(instanceId: number): void {
    for (const hook of this.hooks.values()) if (hook.instanceId === instanceId) this.drop(hook)
  }

  /** The instance's settings changed: a webhook that was disabled stops waiting for its retry. */
  configChanged(instanceId: number, labels: Iterable<string>): void {
    for (const label of labels) {
      const hook = this.hooks.get(keyOf(instanceId, label))
      if (hook === undefined || hook.inFlight !== null) continue
      const inst = this.hub.instance(instanceId)
      if (inst === undefined || webhookOf(inst.config, label)?.enabled !== true) this.enqueue(hook)
    }
    this.schedulePump()
  }

  /** Dead deliveries of these labels back to pending, sent before anything newer; returns how many. */
  requeue(instanceId: number, labels: readonly string[]): number {
    const counts = this.outbox.requeueDead(instanceId, labels, this.clock.now())
    let total = 0
    for (const [label, n] of counts) {
      total += n
      const hook = this.hook(instanceId, label)
      hook.pending += n
      // Re-queued rows sit before the window's: read again from the oldest.
      hook.window = hook.inFlight === null ? [] : [hook.inFlight]
      this.enqueue(hook)
    }
    this.schedulePump()
    return total
  }

  /** Settled rows past the kept counts are deleted; returns how many. */
  prune(): number {
    return this.outbox.prune(KEEP_DELIVERED, this.cfg.webhookMaxPending)
  }

  /**
   * Starts no new attempt and lets those in flight end and be recorded, for up to `ms`, then
   * stops: a clean handover sends nothing the next sender sends again.
   */
  async drain(ms: number): Promise<void> {
    this.draining = true
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => (timer = setTimeout(r, ms)))])
    clearTimeout(timer)
    await this.stop()
  }

  private draining = false

  /** Ends the attempts in flight (they stay pending for the next start) and waits for them. Idempotent. */
  stop(): Promise<void> {
    this.stoppedAll ??= (async () => {
      this.stopped = true
      this.stopping.abort()
      for (const hook of this.hooks.values()) if (hook.timer !== null) clearTimeout(hook.timer)
      await Promise.allSettled([...this.inflight])
      await this.client.close()
    })()
    return this.stoppedAll
  }

  private stoppedAll: Promise<void> | null = null

  // ---- scheduling -------------------------------------------------------------------------------

  private hook(instanceId: number, label: string): Hook {
    const key = keyOf(instanceId, label)
    let hook = this.hooks.get(key)
    if (hook === undefined) {
      hook = { key, instanceId, label, pending: 0, planned: 0, window: [], inFlight: null, abort: null, timer: null, queued: false, gone: false }
      this.hooks.set(key, hook)
    }
    return hook
  }

  private drop(hook: Hook): void {
    hook.gone = true
    hook.abort?.abort()
    if (hook.timer !== null) clearTimeout(hook.timer)
    hook.timer = null
    hook.window = []
    this.hooks.delete(hook.key)
  }

  private enqueue(hook: Hook): void {
    if (hook.queued || hook.gone || hook.inFlight !== null || this.stopped) return
    hook.queued = true
    this.ready.push(hook)
  }

  /** Deferred, so that work never runs inside the caller's stack (the hub's flush, a bus publish). */
  private schedulePump(): void {
    if (this.pumpScheduled || !this.started || this.stopped) return
    this.pumpScheduled = true
    setImmediate(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  private pump(): void {
    while (!this.stopped && !this.draining && this.active < this.cfg.webhookConcurrency && this.ready.length > 0) {
      const hook = this.ready.shift()!
      hook.queued = false
      if (hook.gone) continue
      try {
        this.step(hook)
      } catch (err) {
        this.log.error({ err, instanceId: hook.instanceId, label: hook.label }, 'webhook outbox read or write failed; retrying')
        this.wakeAt(hook, this.clock.now() + STORE_RETRY_MS)
      }
    }
  }

  private wakeAt(hook: Hook, at: number): void {
    if (hook.timer !== null) clearTimeout(hook.timer)
    hook.timer = setTimeout(() => {
      hook.timer = null
      this.enqueue(hook)
      this.pump()
    }, Math.min(TIMER_MAX_MS, Math.max(0, at - this.clock.now())))
    hook.timer.unref()
  }

  /** Starts the webhook's next attempt if its head is due, or waits for it. */
  private step(hook: Hook): void {
    if (hook.inFlight !== null) return
    if (hook.window.length === 0) {
      hook.window = this.outbox.nextPending(hook.instanceId, hook.label, WINDOW)
      if (hook.window.length < WINDOW) hook.pending = hook.window.length
    }
    const head = hook.window[0]
    if (head === undefined) {
      if (hook.planned === 0) this.drop(hook)
      return
    }
    const inst = this.hub.instance(hook.instanceId)
    let config = inst === undefined ? null : (webhookOf(inst.config, hook.label) ?? null)
    if (config === null || !config.enabled) {
      this.deadLetterAll(hook, 'webhook disabled')
      return
    }
    if (head.nextAttemptAt > this.clock.now()) {
      this.wakeAt(hook, head.nextAttemptAt)
      return
    }
    if (!config.signingSecret) {
      config = this.giveSecret(hook)
      if (config === null) return this.wakeAt(hook, this.clock.now() + STORE_RETRY_MS)
    }
    if (hook.timer !== null) clearTimeout(hook.timer)
    hook.timer = null
    this.attempt(hook, head, config)
  }

  /**
   * A webhook configured without a secret (not through the API) gets one before its first
   * delivery; null while the secret is not there yet.
   */
  private giveSecret(hook: Hook): WebhookConfig | null {
    this.hub.giveSigningSecrets(hook.instanceId)
    const config = webhookOf(this.hub.instance(hook.instanceId)?.config ?? { webhooks: {} }, hook.label)
    return config?.enabled === true && config.signingSecret ? config : null
  }

  private attempt(hook: Hook, head: Delivery, config: WebhookConfig): void {
    this.active++
    hook.inFlight = head
    hook.abort = new AbortController()
    const done = this.send(hook, head, config)
      .catch((err) => {
        this.log.error({ err, id: head.id, instanceId: hook.instanceId, label: hook.label }, 'webhook delivery bookkeeping failed; retrying')
        if (!this.stopped && !hook.gone) this.wakeAt(hook, this.clock.now() + STORE_RETRY_MS)
      })
      .finally(() => {
        this.active--
        hook.inFlight = null
        hook.abort = null
        this.inflight.delete(done)
        if (this.stopped) return
        if (hook.timer === null) this.enqueue(hook)
        this.pump()
      })
    this.inflight.add(done)
  }

  private async send(hook: Hook, head: Delivery, config: WebhookConfig): Promise<void> {
    const body = head.body ?? ''
    const timestamp = Math.floor(this.clock.now() / 1000)
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'statushub-webhooks',
      'webhook-id': head.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature(config.signingSecret, head.id, timestamp, body),
    }
    if (config.authorization !== '') headers.authorization = config.authorization
    const url = config.byEvents ? withEventPath(config.url, head.event) : config.url
    const outcome = await this.client.post(url, headers, body, AbortSignal.any([this.stopping.signal, hook.abort!.signal]))
    if (outcome.kind === 'stopped' || hook.gone) return
    this.record(hook, head, outcome, this.clock.now())
  }

  private record(hook: Hook, head: Delivery, outcome: Exclude<PostOutcome, { kind: 'stopped' }>, at: number): void {
    // The attempt is over: what follows must not keep `head` as the one in flight.
    hook.inFlight = null
    const status = outcome.kind === 'answered' ? outcome.status : null
    if (status !== null && status >= 200 && status < 300) {
      this.outbox.delivered(head.pos, at)
      this.counts.delivered++
      this.settled(hook, head)
      return
    }
    if (status === 410) {
      const error = 'HTTP 410: the receiver asked to stop; webhook disabled'
      this.outbox.dead(head.pos, at, error, true)
      this.counts.dead++
      this.settled(hook, head)
      this.deadLetterAll(hook, error)
      if (this.hub.instance(hook.instanceId) !== undefined) this.hub.disableWebhook(hook.instanceId, hook.label)
      this.log.warn({ instanceId: hook.instanceId, label: hook.label, id: head.id }, 'webhook answered 410 Gone: disabled')
      return
    }
    const error = outcome.kind === 'failed' ? outcome.error : status! >= 300 && status! < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`
    const deadline = head.queuedAt + this.cfg.webhookMaxAgeS * 1000
    if (at >= deadline) {
      this.outbox.dead(head.pos, at, error, true)
      this.counts.dead++
      this.settled(hook, head)
      this.log.warn({ instanceId: hook.instanceId, label: hook.label, id: head.id, attempts: head.attempts + 1, error }, 'webhook delivery dead-lettered after its retry age')
      return
    }
    const next = Math.min(deadline, at + backoffDelay(head.attempts, this.policy, this.random))
    this.outbox.retry(head.pos, at, error, next)
    this.counts.retried++
    head.attempts++
    head.lastAttemptAt = at
    head.lastError = error
    head.nextAttemptAt = next
    this.log.debug({ instanceId: hook.instanceId, label: hook.label, id: head.id, attempts: head.attempts, error, next }, 'webhook delivery failed; retrying')
    this.wakeAt(hook, next)
  }

  /** The head left the pending set. */
  private settled(hook: Hook, head: Delivery): void {
    if (hook.window[0] === head) hook.window.shift()
    hook.pending = Math.max(0, hook.pending - 1)
  }

  /** Every pending delivery of the webhook, none being in flight. */
  private deadLetterAll(hook: Hook, error: string): void {
    const n = this.outbox.deadAllPending(hook.instanceId, hook.label, error, null)
    this.counts.dead += n
    hook.pending = 0
    hook.window = []
  }

  /** Past HUB_WEBHOOK_MAX_PENDING committed pending rows (the one in flight included), the oldest are dead-lettered. */
  private trim(hook: Hook): void {
    const max = this.cfg.webhookMaxPending
    if (hook.pending <= max) return
    const n = this.outbox.deadOldestPending(hook.instanceId, hook.label, hook.pending - max, hook.inFlight?.pos ?? null, `dropped: more than ${max} deliveries pending for this webhook`)
    if (n === 0) return
    this.counts.dead += n
    hook.pending -= n
    hook.window = hook.inFlight === null ? [] : [hook.inFlight]
    this.log.warn({ instanceId: hook.instanceId, label: hook.label, dropped: n, max }, 'webhook backlog over its bound: oldest deliveries dead-lettered')
  }
}

function keyOf(instanceId: number, label: string): string {
  return `${instanceId}/${label}`
}

/** `byEvents`: the event name joins the URL's path as RyzeAPI does (`…/instance-state`); the query stays. */
export function withEventPath(url: string, event: string): string {
  try {
    const u = new URL(url)
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/${event.replace(/\./g, '-')}`
    return u.toString()
  } catch {
    return url
  }
}
