/**
 * @module What a cluster's webhook deliverer keeps in the engine for one account (the account's
 * writer delivers its webhooks) so that the account's next writer continues where it stopped (spec/webhooks.md "Guarantees"): where to read the change log again
 * from, how far each webhook has settled, and the dead letters (with what was re-queued of them).
 * Pending deliveries themselves are not kept: they are planned again from the log, with the same
 * `webhook-id`. Writes are queued and sent in the order asked for; a dead letter is in the engine
 * before a cursor or resume point that passes it.
 */
import type { Delivery } from './outbox.js'

/** A webhook's cursor: every delivery of it with `seq` at or below this, in this epoch, has settled. */
export interface WebhookCursor {
  epoch: string
  seq: number
}

/** Where the next deliverer reads the change log again from: nothing older is still pending. */
export interface ResumePoint {
  epoch: string
  position: number
}

export interface LedgerState {
  resume: ResumePoint | null
  /** By `<instanceId>/<label>`. */
  cursors: Map<string, WebhookCursor>
  /** Dead letters, and the ones re-queued (pending) since, oldest first. */
  letters: Omit<Delivery, 'pos'>[]
}

export interface WebhookLedger {
  load(): Promise<LedgerState>
  /** Keeps (or updates) a dead letter or a re-queued one. */
  putLetter(d: Omit<Delivery, 'pos'>): void
  deleteLetter(instanceId: number, id: string): void
  putCursor(instanceId: number, label: string, cursor: WebhookCursor): void
  putResume(point: ResumePoint): void
  /** Forgets everything kept for the instance (it was deleted). */
  forgetInstance(instanceId: number): void
  /** Resolves once every write asked for before the call is in the engine (retrying until then). */
  flush(): Promise<void>
  /** Drops the writes not sent yet: this node no longer delivers the account's webhooks. */
  discard(): void
}
