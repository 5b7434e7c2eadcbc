/**
 * @module The in-memory change bus of every hub (embedded, and each cluster node's): publish
 * delivers synchronously, in order, to every subscriber. A subscriber that throws is logged and skipped;
 * the others still get the change.
 */
import type { BusSubscriber, ChangeBus, ChangeRecord } from '../../ports/bus.js'

export interface BusLog {
  error(obj: object, msg?: string): void
}

export class MemoryBus implements ChangeBus {
  private subscribers: BusSubscriber[] = []

  constructor(private readonly log: BusLog) {}

  publish(r: ChangeRecord): void {
    const subs = this.subscribers
    for (let i = 0; i < subs.length; i++) {
      try {
        subs[i]!.onChange(r)
      } catch (err) {
        this.log.error({ err, seq: r.seq, accountId: r.accountId }, 'change subscriber failed')
      }
    }
  }

  revoke(tokenHashes: readonly string[]): void {
    for (const s of this.subscribers) {
      try {
        s.onRevoke(tokenHashes)
      } catch (err) {
        this.log.error({ err }, 'revoke subscriber failed')
      }
    }
  }

  subscribe(s: BusSubscriber): () => void {
    this.subscribers = [...this.subscribers, s]
    return () => {
      this.subscribers = this.subscribers.filter((x) => x !== s)
    }
  }
}
