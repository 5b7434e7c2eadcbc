/**
 * @module The account writers a node runs: for each account whose writer lease it holds, one
 * queue of changes, each prepared on the node's hub, appended to the account's subject only if the
 * subject's last message is still the one this writer appended before (JetStream's expected last
 * subject sequence), applied once the engine acknowledged it, and then kept behind in sh_state.
 * A writer whose append is refused was replaced: it drops the lease and never appends again.
 *
 * Taking an account over, the writer reads the subject's last message and waits until its own hub
 * has applied it, so every change it prepares follows the last one any writer made.
 */
import { headers } from '@nats-io/transport-node'
import type { Logger } from 'pino'
import type { Engine } from '../adapters/nats/engine.js'
import { changeSubject, STREAM } from '../adapters/nats/engine.js'
import { HubError } from '../core/errors.js'
import type { Hub, PreparedChange } from '../hub/hub.js'
import type { SecretBox } from '../ports/secrets.js'
import type { Follower } from './follower.js'
import { K } from './keys.js'
import { isWrongSequence, type Leases } from './leases.js'
import { encodeMessage, encodeSnapshot, type EngineMessage } from './wire.js'

/** Another node writes this account (or none can now): the caller routes the command there. */
export class NotWriter extends Error {
  override name = 'NotWriter'
  constructor(readonly accountId: number) {
    super(`this node does not write account ${accountId}`)
  }
}

interface AccountWriter {
  accountId: number
  /** The stream sequence of the subject's last message, as this writer knows it. */
  lastStreamSeq: number
  tail: Promise<unknown>
}

/** What an operation run by the writer gets: the hub (to prepare) and the fenced append. */
export interface WriterTxn {
  readonly hub: Hub
  /** Appends, applies on this node, keeps it behind; resolves with the stream sequence. */
  append(m: EngineMessage): Promise<number>
}

export class Writers {
  private readonly writers = new Map<number, AccountWriter>()
  private readonly dirty = new Map<number, { accountId: number; instanceId: number; seq: number; removed: boolean }>()
  private readonly dirtySeqs = new Map<number, number>()
  private flushing: Promise<void> | null = null
  private flushTimer: NodeJS.Timeout | null = null
  private epoch: string

  constructor(
    private readonly engine: Engine,
    private readonly hub: Hub,
    private readonly follower: Follower,
    private readonly leases: Leases,
    private readonly box: SecretBox,
    private readonly log: Logger,
    private readonly catchUpMs: number,
  ) {
    this.epoch = hub.epoch
    leases.onLost((key) => {
      for (const w of this.writers.values()) if (K.writerLease(w.accountId) === key) this.writers.delete(w.accountId)
    })
  }

  /** Accounts this node writes now. */
  get accounts(): number[] {
    return [...this.writers.keys()].filter((id) => this.leases.holds(K.writerLease(id)))
  }

  /**
   * Runs `op` as the account's writer, after every operation queued before it. Takes the writer
   * lease when no node holds it; throws NotWriter when another node does.
   */
  run<T>(accountId: number, op: (txn: WriterTxn) => Promise<T>): Promise<T> {
    let w = this.writers.get(accountId)
    if (w === undefined) {
      w = { accountId, lastStreamSeq: -1, tail: Promise.resolve() }
      this.writers.set(accountId, w)
    }
    const writer = w
    const result = writer.tail.then(async () => {
      await this.ensureWriting(writer)
      return op({ hub: this.hub, append: (m) => this.append(writer, m) })
    })
    writer.tail = result.catch(() => undefined)
    return result
  }

  /** Gives every writer lease back (SIGTERM handover), after the queued operations. */
  async release(): Promise<void> {
    const all = [...this.writers.values()]
    this.writers.clear()
    await Promise.allSettled(all.map((w) => w.tail))
    await this.flush()
    await Promise.allSettled(all.map((w) => this.leases.release(K.writerLease(w.accountId))))
  }

  private async ensureWriting(w: AccountWriter): Promise<void> {
    const key = K.writerLease(w.accountId)
    if (this.leases.holds(key) && w.lastStreamSeq >= 0) return
    if (!(await this.leases.acquire(key))) {
      this.writers.delete(w.accountId)
      throw new NotWriter(w.accountId)
    }
    // Taken over (or first write): continue after the last change any writer appended.
    const last = await this.engine.jsm.streams.getMessage(STREAM, { last_by_subj: changeSubject(w.accountId) })
    w.lastStreamSeq = last?.seq ?? 0
    if (last !== null) await this.follower.waitFor(last.seq, this.catchUpMs)
  }

  private async append(w: AccountWriter, m: EngineMessage): Promise<number> {
    const key = K.writerLease(w.accountId)
    const rev = this.leases.revision(key)
    if (rev === null || !this.leases.holds(key)) throw new NotWriter(w.accountId)
    const seq = m.t === 'change' ? m.change.record.seq : (this.hub.account(w.accountId)?.seq ?? 0)
    const h = headers()
    h.set('Sh-Seq', String(seq))
    // Unique to this writer's lease: a replaced writer's retry can never pass as a duplicate.
    const msgID = m.t === 'change' ? `${this.epoch}:${w.accountId}:${seq}:${rev}` : `${this.epoch}:${w.accountId}:k${m.instanceId}:${Date.now()}:${rev}`
    let ackSeq: number
    try {
      ackSeq = (await this.engine.js.publish(changeSubject(w.accountId), encodeMessage(m, this.box), { headers: h, msgID, expect: { lastSubjectSequence: w.lastStreamSeq }, timeout: 5000 })).seq
    } catch (err) {
      if (isWrongSequence(err)) {
        // Another writer appended: this one was replaced and must never append again.
        this.writers.delete(w.accountId)
        this.leases.drop(key)
        throw new NotWriter(w.accountId)
      }
      // Timed out or cut off: the append may or may not have landed; the same id settles it.
      try {
        ackSeq = (await this.engine.js.publish(changeSubject(w.accountId), encodeMessage(m, this.box), { headers: h, msgID, expect: { lastSubjectSequence: w.lastStreamSeq }, timeout: 5000 })).seq
      } catch (again) {
        this.writers.delete(w.accountId)
        if (isWrongSequence(again)) this.leases.drop(key)
        throw new HubError('unavailable', 'The cluster engine did not acknowledge the change; retry')
      }
    }
    w.lastStreamSeq = ackSeq
    if (m.t === 'change') {
      this.hub.apply(m.change)
      this.keepBehind(w.accountId, m.change)
    } else {
      this.hub.applyInstanceToken(m.instanceId, m.tokenHash)
      this.dirty.set(m.instanceId, { accountId: w.accountId, instanceId: m.instanceId, seq: this.hub.account(w.accountId)?.seq ?? 0, removed: false })
      this.scheduleFlush()
    }
    return ackSeq
  }

  private keepBehind(accountId: number, p: PreparedChange): void {
    this.dirty.set(p.record.instanceId, { accountId, instanceId: p.record.instanceId, seq: p.record.seq, removed: p.record.kind === 'removed' })
    this.dirtySeqs.set(accountId, p.record.seq)
    this.scheduleFlush()
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== null) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null
      void this.flush()
    }, 10)
    this.flushTimer.unref()
  }

  /** Writes the snapshots behind: each dirty instance's latest state, each account's seq. */
  async flush(): Promise<void> {
    if (this.flushing !== null) await this.flushing
    if (this.dirty.size === 0 && this.dirtySeqs.size === 0) return
    const items = [...this.dirty.values()]
    const seqs = [...this.dirtySeqs]
    this.dirty.clear()
    this.dirtySeqs.clear()
    this.flushing = (async () => {
      const puts: Promise<unknown>[] = []
      for (const d of items) {
        // Only while this node still writes the account: a replaced writer's snapshot is older.
        if (!this.leases.holds(K.writerLease(d.accountId))) continue
        if (d.removed) puts.push(this.engine.state.delete(K.instance(d.instanceId)))
        else {
          const state = this.hub.stateFor(d.instanceId)
          if (state !== undefined) puts.push(this.engine.state.put(K.instance(d.instanceId), encodeSnapshot({ seq: d.seq, state }, this.box)))
        }
      }
      for (const [accountId, seq] of seqs) if (this.leases.holds(K.writerLease(accountId))) puts.push(this.engine.state.put(K.accountSeq(accountId), String(seq)))
      const results = await Promise.allSettled(puts)
      const failed = results.filter((r) => r.status === 'rejected').length
      if (failed > 0) {
        this.log.warn({ failed }, 'keeping instance snapshots behind failed; the stream still holds the changes')
        for (const d of items) if (!this.dirty.has(d.instanceId)) this.dirty.set(d.instanceId, d)
        for (const [a, s] of seqs) if (!this.dirtySeqs.has(a)) this.dirtySeqs.set(a, s)
        this.scheduleFlush()
      }
    })()
    try {
      await this.flushing
    } finally {
      this.flushing = null
    }
  }
}
