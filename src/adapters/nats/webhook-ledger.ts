/**
 * @module KvWebhookLedger implements the WebhookLedger port of one account in the engine's bucket
 * sh_webhooks, under `a.<accountId>.`:
 * - `a.<accountId>.r`: the resume point `{"epoch","position"}` (a change-stream sequence)
 * - `a.<accountId>.c.<instanceId>.<label>`: a webhook's cursor `{"epoch","seq"}`
 * - `a.<accountId>.d.<instanceId>.<id>`: a dead letter, or one re-queued since (`status` says
 *   which), as the deliveries list shows it plus its body
 * (label and id are base64url: KV keys accept only `[-/=.\w]`).
 *
 * Writes are coalesced per key and sent in batches, one batch at a time, in phases: forgotten
 * instances and letters first, then cursors, then the resume point, so a cursor or resume point
 * never reaches the engine before a letter it passes. A failed batch is queued again (unless
 * newer writes of the same keys replaced it) and retried.
 */
import type { KV, KvWatchEntry } from '@nats-io/kv'
import type { Delivery } from '../../ports/outbox.js'
import type { LedgerState, ResumePoint, WebhookCursor, WebhookLedger } from '../../ports/webhook-ledger.js'

const RETRY_MS = 500

const tok = (text: string) => (text === '' ? '=' : Buffer.from(text, 'utf8').toString('base64url'))
const untok = (t: string) => (t === '=' ? '' : Buffer.from(t, 'base64url').toString('utf8'))

export const ledgerPrefix = (accountId: number) => `a.${accountId}.`
export const letterKey = (accountId: number, instanceId: number, id: string) => `a.${accountId}.d.${instanceId}.${tok(id)}`
export const cursorKey = (accountId: number, instanceId: number, label: string) => `a.${accountId}.c.${instanceId}.${tok(label)}`
export const resumeKey = (accountId: number) => `a.${accountId}.r`

interface Batch {
  forgets: Set<number>
  /** Key → value to put, or null to delete. */
  letters: Map<string, string | null>
  cursors: Map<string, string>
  resume: string | null
}

const emptyBatch = (): Batch => ({ forgets: new Set(), letters: new Map(), cursors: new Map(), resume: null })

export class KvWebhookLedger implements WebhookLedger {
  private queued: Batch = emptyBatch()
  private asked = 0
  private done = 0
  private running = false
  /** Bumped by discard: a batch taken before it is stale (its node lost the seat) and is never retried. */
  private tenure = 0
  private readonly waiters: { gen: number; resolve: () => void }[] = []

  private readonly prefix: string

  constructor(
    private readonly kv: KV,
    private readonly accountId: number,
    private readonly log: { warn(o: object, m?: string): void },
  ) {
    this.prefix = ledgerPrefix(accountId)
  }

  async load(): Promise<LedgerState> {
    const state: LedgerState = { resume: null, cursors: new Map(), letters: [] }
    const latest = new Map<string, KvWatchEntry>()
    for await (const e of await this.kv.history({ key: `${this.prefix}>` })) latest.set(e.key, e)
    for (const [key, e] of latest) {
      if (e.operation !== 'PUT') continue
      const k = key.slice(this.prefix.length)
      if (k === 'r') state.resume = e.json<ResumePoint>()
      const c = /^c\.(\d+)\.([^.]+)$/.exec(k)
      if (c !== null) state.cursors.set(`${c[1]}/${untok(c[2]!)}`, e.json<WebhookCursor>())
      if (k.startsWith('d.')) state.letters.push(e.json<Omit<Delivery, 'pos'>>())
    }
    state.letters.sort((a, b) => a.createdAt - b.createdAt || a.seq - b.seq)
    return state
  }

  putLetter(d: Omit<Delivery, 'pos'>): void {
    const { id, instanceId, label, event, seq, version, body, status, attempts, createdAt, queuedAt, nextAttemptAt, lastAttemptAt, lastError } = d
    this.queued.letters.set(letterKey(this.accountId, instanceId, id), JSON.stringify({ id, instanceId, label, event, seq, version, body, status, attempts, createdAt, queuedAt, nextAttemptAt, lastAttemptAt, lastError }))
    this.kick()
  }

  deleteLetter(instanceId: number, id: string): void {
    this.queued.letters.set(letterKey(this.accountId, instanceId, id), null)
    this.kick()
  }

  putCursor(instanceId: number, label: string, cursor: WebhookCursor): void {
    this.queued.cursors.set(cursorKey(this.accountId, instanceId, label), JSON.stringify(cursor))
    this.kick()
  }

  putResume(point: ResumePoint): void {
    this.queued.resume = JSON.stringify(point)
    this.kick()
  }

  forgetInstance(instanceId: number): void {
    const q = this.queued
    for (const k of [...q.letters.keys()]) if (k.startsWith(`${this.prefix}d.${instanceId}.`)) q.letters.delete(k)
    for (const k of [...q.cursors.keys()]) if (k.startsWith(`${this.prefix}c.${instanceId}.`)) q.cursors.delete(k)
    q.forgets.add(instanceId)
    this.kick()
  }

  flush(): Promise<void> {
    if (this.done >= this.asked) return Promise.resolve()
    const gen = this.asked
    return new Promise((resolve) => this.waiters.push({ gen, resolve }))
  }

  discard(): void {
    this.tenure++
    this.queued = emptyBatch()
    this.settle(this.asked)
  }

  // ---- internals --------------------------------------------------------------------------------

  private kick(): void {
    this.asked++
    if (this.running) return
    this.running = true
    void this.drain()
  }

  private async drain(): Promise<void> {
    try {
      while (!isEmpty(this.queued)) {
        const gen = this.asked
        const tenure = this.tenure
        const batch = this.queued
        this.queued = emptyBatch()
        try {
          await this.write(batch, tenure)
          this.settle(gen)
        } catch (err) {
          if (tenure !== this.tenure) continue
          this.log.warn({ err }, 'keeping webhook delivery state in the engine failed; retrying')
          this.requeue(batch)
          await new Promise((r) => setTimeout(r, RETRY_MS).unref())
        }
      }
    } finally {
      // Synchronously after the loop's last look: nothing can have been queued in between.
      this.running = false
    }
  }

  /** In steps (forgets, letters, cursors, the resume point), each only while the tenure that queued it lasts. */
  private async write(b: Batch, tenure: number): Promise<void> {
    const kv = this.kv
    const current = () => tenure === this.tenure
    for (const instanceId of b.forgets) {
      const keys: string[] = []
      for (const filter of [`${this.prefix}d.${instanceId}.>`, `${this.prefix}c.${instanceId}.>`]) for await (const k of await kv.keys(filter)) keys.push(k)
      if (!current()) return
      await all(keys.map((k) => kv.delete(k)))
    }
    if (!current()) return
    await all([...b.letters].map(([k, v]) => (v === null ? kv.delete(k) : kv.put(k, v))))
    if (!current()) return
    await all([...b.cursors].map(([k, v]) => kv.put(k, v)))
    if (b.resume !== null && current()) await kv.put(resumeKey(this.accountId), b.resume)
  }

  /** A failed batch goes back behind what was asked for since, which is newer for the same keys. */
  private requeue(b: Batch): void {
    const q = this.queued
    for (const i of b.forgets) q.forgets.add(i)
    for (const [k, v] of b.letters) if (!q.letters.has(k)) q.letters.set(k, v)
    for (const [k, v] of b.cursors) if (!q.cursors.has(k)) q.cursors.set(k, v)
    if (q.resume === null) q.resume = b.resume
  }

  private settle(gen: number): void {
    this.done = Math.max(this.done, gen)
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!
      if (w.gen <= this.done) {
        this.waiters.splice(i, 1)
        w.resolve()
      }
    }
  }
}

function isEmpty(b: Batch): boolean {
  return b.forgets.size === 0 && b.letters.size === 0 && b.cursors.size === 0 && b.resume === null
}

/** Waits for every write; throws the first failure after all have settled. */
async function all(writes: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(writes)
  const failed = results.find((r) => r.status === 'rejected')
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
}
