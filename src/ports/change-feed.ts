/**
 * @module The acknowledged change log read as a feed, with each change's position in the log and
 * the instance's integration settings after it: what the cluster's webhook deliverer plans its
 * deliveries from (spec/webhooks.md, "in cluster mode the outbox is derived from the acknowledged
 * change stream"). Positions only grow within an epoch; a new epoch starts the log again.
 */
import type { InstanceConfig } from '../core/integrations.js'
import type { ChangeRecord } from './bus.js'

export interface FedChange {
  /** Where the change is in the log (a later change has a higher position). */
  position: number
  record: ChangeRecord
  /** The instance's settings right after the change (for `removed`, as they were). */
  config: Readonly<InstanceConfig>
}

/**
 * An account whose kept changes begin after the position a feed was asked to start from: some of
 * its changes older than `firstKeptSeq` may be gone (the log keeps a bounded count per account).
 */
export interface FeedGap {
  accountId: number
  firstKeptSeq: number
}

export interface ChangeFeed {
  /** The log's epoch (a new one when the log was lost and made again). */
  readonly epoch: string
  /** The position the next change will have: nothing before it is new. */
  next(): number
  /**
   * Calls `each` for every change of the account at `from` or later, in log order, once: first
   * those the log still keeps, then each new one once this node has applied it. Resolves once the
   * kept ones were read; `onGap` is called before that when the account may have lost some.
   */
  follow(accountId: number, from: number, each: (c: FedChange) => void, onGap: (g: FeedGap) => void): Promise<{ stop(): void }>
}
