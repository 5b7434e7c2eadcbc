/**
 * @module The ChangeFeed a node's follower gives (ports/change-feed.ts): one account's changes
 * read back from a position up to what this node has applied (on the account's own subject), then
 * every change of it the follower applies from then on, tapped right after it applied it (so this
 * node's hub already shows the change). The tap is set before the position read back to is taken,
 * so no message falls between the two. One tap serves every account followed.
 *
 * The stream keeps `maxPerAccount` messages per account: an account with that many from the start
 * position on may have lost older ones after it (FeedGap). One with fewer lost none after it.
 */
import { changeSubject } from '../adapters/nats/engine.js'
import type { ChangeFeed, FedChange, FeedGap } from '../ports/change-feed.js'
import type { Follower } from './follower.js'
import type { EngineMessage } from './wire.js'

type Listener = (c: FedChange) => void

export class FollowerFeed implements ChangeFeed {
  private readonly listeners = new Map<number, Set<Listener>>()
  private untap: (() => void) | null = null

  constructor(
    private readonly follower: Follower,
    readonly epoch: string,
    private readonly maxPerAccount: number,
  ) {}

  next(): number {
    return this.follower.applied + 1
  }

  async follow(accountId: number, from: number, each: (c: FedChange) => void, onGap: (g: FeedGap) => void): Promise<{ stop(): void }> {
    let live = false
    let stopped = false
    const early: FedChange[] = []
    const listener: Listener = (c) => {
      if (stopped) return
      if (live) each(c)
      else early.push(c)
    }
    const stop = () => {
      stopped = true
      this.unlisten(accountId, listener)
    }
    this.listen(accountId, listener)
    const upTo = this.follower.applied
    let messages = 0
    let firstSeq: number | null = null
    try {
      await this.follower.read(
        Math.max(1, from),
        upTo,
        (_accountId, m, streamSeq) => {
          if (stopped || streamSeq > upTo) return
          messages++
          const c = fed(streamSeq, m)
          if (c === null) return
          firstSeq ??= c.record.seq
          each(c)
        },
        changeSubject(accountId),
      )
    } catch (err) {
      stop()
      throw err
    }
    if (messages >= this.maxPerAccount && firstSeq !== null) onGap({ accountId, firstKeptSeq: firstSeq })
    for (const c of early) if (!stopped) each(c)
    live = true
    return { stop }
  }

  private listen(accountId: number, fn: Listener): void {
    let set = this.listeners.get(accountId)
    if (set === undefined) this.listeners.set(accountId, (set = new Set()))
    set.add(fn)
    this.untap ??= this.follower.tap((streamSeq, id, m) => {
      const set = this.listeners.get(id)
      if (set === undefined) return
      const c = fed(streamSeq, m)
      if (c !== null) for (const fn of set) fn(c)
    })
  }

  private unlisten(accountId: number, fn: Listener): void {
    const set = this.listeners.get(accountId)
    if (set === undefined) return
    set.delete(fn)
    if (set.size === 0) this.listeners.delete(accountId)
  }
}

function fed(position: number, m: EngineMessage): FedChange | null {
  if (m.t !== 'change') return null
  return { position, record: m.change.record, config: m.change.state.config }
}
