/**
 * @module The ChangeFeed a node's follower gives (ports/change-feed.ts): the change stream read
 * back from a position up to what this node has applied, then every message the follower applies
 * from then on, tapped right after it applied it (so this node's hub already shows the change).
 * The tap is set before the position read back to is taken, so no message falls between the two.
 *
 * The stream keeps `maxPerAccount` messages per account: an account with that many from the start
 * position on may have lost older ones after it (FeedGap). One with fewer lost none after it.
 */
import type { ChangeFeed, FedChange, FeedGap } from '../ports/change-feed.js'
import type { Follower } from './follower.js'
import type { EngineMessage } from './wire.js'

export class FollowerFeed implements ChangeFeed {
  constructor(
    private readonly follower: Follower,
    readonly epoch: string,
    private readonly maxPerAccount: number,
  ) {}

  next(): number {
    return this.follower.applied + 1
  }

  async follow(from: number, each: (c: FedChange) => void, onGap: (g: FeedGap) => void): Promise<{ stop(): void }> {
    let live = false
    let stopped = false
    const early: FedChange[] = []
    const untap = this.follower.tap((streamSeq, _accountId, m) => {
      const c = fed(streamSeq, m)
      if (stopped || c === null) return
      if (live) each(c)
      else early.push(c)
    })
    const upTo = this.follower.applied
    const seen = new Map<number, { messages: number; firstSeq: number | null }>()
    try {
      await this.follower.read(Math.max(1, from), upTo, (accountId, m, streamSeq) => {
        if (stopped || streamSeq > upTo) return
        const s = seen.get(accountId) ?? { messages: 0, firstSeq: null }
        s.messages++
        seen.set(accountId, s)
        const c = fed(streamSeq, m)
        if (c === null) return
        s.firstSeq ??= c.record.seq
        each(c)
      })
    } catch (err) {
      untap()
      throw err
    }
    for (const [accountId, s] of seen) if (s.messages >= this.maxPerAccount && s.firstSeq !== null) onGap({ accountId, firstKeptSeq: s.firstSeq })
    for (const c of early) if (!stopped) each(c)
    live = true
    return {
      stop: () => {
        stopped = true
        untap()
      },
    }
  }
}

function fed(position: number, m: EngineMessage): FedChange | null {
  if (m.t !== 'change') return null
  return { position, record: m.change.record, config: m.change.state.config }
}
