/**
 * @module How a node follows the cluster: it reads the engine's state (accounts, the instance
 * snapshots the writers keep behind), replays every change the stream still keeps on top of it,
 * hands that to a hub as its starting state, then applies each new change as the stream delivers
 * it, in stream order, once. Every node's hub, its ring, its lists and its subscribers are fed by
 * this one path, the writer's own node included (it applies at the acknowledgement; the stream's
 * copy is then skipped by seq).
 *
 * Hazards (nats-server 2.9, /work notes): an ordered consumer can silently miss what was delivered
 * into a dead connection until the next message, so it is recreated from the last applied stream
 * sequence on every reconnect; after the stream is deleted and made again it resumes at its old
 * cursor on the new stream, so a changed creation time is treated as a lost stream (`onLost`).
 */
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream'
import type { KvWatchEntry } from '@nats-io/kv'
import type { Logger } from 'pino'
import type { Engine } from '../adapters/nats/engine.js'
import { STREAM } from '../adapters/nats/engine.js'
import type { Hub } from '../hub/hub.js'
import type { ChangeRow, InstanceRow } from '../ports/store.js'
import type { SecretBox } from '../ports/secrets.js'
import type { Preload } from '../adapters/memory/store.js'
import { idOf, K } from './keys.js'
import { decodeMessage, decodeSnapshot, type AccountEntry, type EngineMessage } from './wire.js'
import { epochOf } from './epoch.js'

const SUBJECTS = 'sh.chg.>'
/** A read back that has received nothing this long looks whether the stream still keeps what it waits for. */
const REPLAY_QUIET_MS = 2000

/** Told of each message this node applied from the stream, in stream order, right after it applied it. */
export type Tap = (streamSeq: number, accountId: number, m: EngineMessage) => void

export interface Bootstrap {
  preload: Preload
  epoch: string
  streamCreated: string
  /** The stream sequence the preload includes. */
  streamSeq: number
  /** The last revision of sh_state the preload includes. */
  stateRevision: number
}

export class Follower {
  private hub: Hub | null = null
  private streamSeq = 0
  private stateRevision = 0
  private consumer: ConsumerMessages | null = null
  private accountWatch: { stop(): void } | null = null
  private stopped = false
  private readonly waiters: { streamSeq: number; resolve: () => void }[] = []
  private restarting = false
  private readonly taps = new Set<Tap>()

  constructor(
    private readonly engine: Engine,
    private readonly box: SecretBox,
    private readonly log: Logger,
    /** The stream was lost (deleted, recreated) or this node fell out of step: start over. */
    private readonly onLost: (why: string) => void,
  ) {}

  /** The stream sequence this node has applied up to. */
  get applied(): number {
    return this.streamSeq
  }

  /** The engine's state now, as a hub's starting state. */
  async bootstrap(): Promise<Bootstrap> {
    const info = await this.engine.jsm.streams.info(STREAM)
    const epoch = epochOf(info.created)
    const accounts = new Map<number, AccountEntry>()
    const accountSeqs = new Map<number, number>()
    const snapshots = new Map<number, { seq: number; row: InstanceRow }>()
    const meta: Record<string, string> = {}
    let stateRevision = 0
    for (const e of await this.readState()) {
      stateRevision = Math.max(stateRevision, e.revision)
      if (e.operation !== 'PUT') continue
      const accountId = idOf(e.key, 'a')
      if (accountId !== null) accounts.set(accountId, e.json<AccountEntry>())
      const seqOf = idOf(e.key, 'q')
      if (seqOf !== null) accountSeqs.set(seqOf, Number(e.string()))
      const instanceId = idOf(e.key, 'i')
      if (instanceId !== null) {
        const snap = decodeSnapshot(e.string(), this.box)
        snapshots.set(instanceId, { seq: snap.seq, row: snap.state })
      }
      if (e.key === K.admin) meta.admin_token_hash = e.string()
    }

    // Every change still kept, on top of the snapshots: each instance takes the changes newer than
    // its snapshot; each account's log is the changes kept, which end at its last one.
    const last = info.state.last_seq
    const changes = new Map<number, ChangeRow[]>()
    const heads = new Map<number, number>()
    if (info.state.messages > 0) {
      await this.replay(info.state.first_seq, last, (accountId, m) => {
        if (m.t === 'token') {
          const s = snapshots.get(m.instanceId)
          if (s !== undefined) s.row = { ...s.row, tokenHash: m.tokenHash }
          return
        }
        const { record: r, state } = m.change
        const rows = changes.get(accountId) ?? []
        rows.push({ accountId, seq: r.seq, instanceId: r.instanceId, instance: r.instance, kind: r.kind, at: r.at, frame: r.frame })
        changes.set(accountId, rows)
        heads.set(accountId, r.seq)
        const s = snapshots.get(r.instanceId)
        if (s !== undefined && r.seq <= s.seq) return
        if (r.kind === 'removed') snapshots.delete(r.instanceId)
        else snapshots.set(r.instanceId, { seq: r.seq, row: state })
      }, SUBJECTS)
    }

    const preload: Preload = {
      meta: { ...meta, epoch, clean_shutdown: '1', default_account_created: '1' },
      accounts: [...accounts.values()].map((a) => {
        const seq = Math.max(heads.get(a.id) ?? 0, accountSeqs.get(a.id) ?? 0)
        // Where this epoch's log begins: nothing older than the first change kept can be replayed.
        const firstKept = changes.get(a.id)?.[0]?.seq
        return { ...a, seq, seqReserved: seq, epochSeq: firstKept === undefined ? seq : firstKept - 1 }
      }),
      instances: [...snapshots.values()].map((s) => s.row).filter((r) => accounts.has(r.accountId)),
      changes,
    }
    this.streamSeq = last
    this.stateRevision = stateRevision
    return { preload, epoch, streamCreated: info.created, streamSeq: last, stateRevision }
  }

  /** From here on, every change the stream delivers is applied to `hub`. */
  follow(hub: Hub): void {
    this.hub = hub
    this.consume()
    this.watchAccounts()
    this.engine.onStatus((s) => {
      // Messages delivered into the dead connection are lost to both iterators: start them again.
      if (s.type === 'reconnect' && !this.stopped) {
        this.consume()
        this.watchAccounts()
      }
    })
  }

  /**
   * Calls `fn` for every message applied from now on (one this node's hub does not know the
   * account of is not applied, nor tapped). Returns the function that stops it.
   */
  tap(fn: Tap): () => void {
    this.taps.add(fn)
    return () => this.taps.delete(fn)
  }

  /** Resolves once this node has applied the stream up to `streamSeq` (read-your-writes). */
  waitFor(streamSeq: number, timeoutMs: number): Promise<void> {
    if (this.streamSeq >= streamSeq) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const w = { streamSeq, resolve: () => (clearTimeout(t), resolve()) }
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(new Error(`this node has not applied stream sequence ${streamSeq} within ${timeoutMs} ms (at ${this.streamSeq})`))
      }, timeoutMs)
      this.waiters.push(w)
    })
  }

  stop(): void {
    this.stopped = true
    void this.consumer?.close()
    this.accountWatch?.stop()
    for (const w of this.waiters.splice(0)) w.resolve()
  }

  // ---- internals ------------------------------------------------------------------------------

  private async readState(): Promise<KvWatchEntry[]> {
    const status = await this.engine.state.status()
    if (status.values === 0) return []
    const out: KvWatchEntry[] = []
    const w = await this.engine.state.watch({ key: '>' })
    for await (const e of w) {
      out.push(e)
      if (e.delta === 0) break
    }
    w.stop()
    return out
  }

  /**
   * Calls `each` for every message the stream still keeps from `first` to `last`, in order (it
   * may also pass some after `last`, when `last` itself is gone). `subject` narrows it (one account's).
   */
  async read(first: number, last: number, each: (accountId: number, m: EngineMessage, streamSeq: number) => void, subject = SUBJECTS): Promise<void> {
    if (first > last) return
    // A consumer started past the last message kept would wait for the next one: look first.
    const next = await this.engine.jsm.direct.getMessage(STREAM, { next_by_subj: subject, seq: first })
    if (next === null || next.seq > last) return
    return this.replay(next.seq, last, each, subject)
  }

  private async replay(first: number, last: number, each: (accountId: number, m: EngineMessage, streamSeq: number) => void, subject: string): Promise<void> {
    const c = await this.engine.js.consumers.get(STREAM, { filter_subjects: subject, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: first })
    const it = await c.consume()
    // Every message up to `last` may be gone before the consumer read one (purged with its
    // account): it would wait for the next append. Silence makes it look whether any is left.
    let seen = first - 1
    let quietSince = Date.now()
    const watchdog = setInterval(() => {
      if (Date.now() - quietSince < REPLAY_QUIET_MS) return
      quietSince = Date.now()
      this.engine.jsm.direct.getMessage(STREAM, { next_by_subj: subject, seq: seen + 1 }).then(
        (next) => {
          if (next === null || next.seq > last) void it.close()
        },
        () => undefined,
      )
    }, REPLAY_QUIET_MS)
    try {
      for await (const m of it) {
        seen = m.seq
        quietSince = Date.now()
        const decoded = this.decode(m)
        if (decoded !== null) each(decoded.accountId, decoded.message, m.seq)
        // The last message may be gone meanwhile (trimmed, purged): nothing pending ends it too.
        if (m.seq >= last || m.info.pending === 0) break
      }
    } finally {
      clearInterval(watchdog)
      await it.close()
    }
  }

  private decode(m: JsMsg): { accountId: number; message: EngineMessage } | null {
    const accountId = Number(m.subject.slice('sh.chg.'.length))
    try {
      return { accountId, message: decodeMessage(m.string(), this.box) }
    } catch (err) {
      this.log.error({ err, streamSeq: m.seq, subject: m.subject }, 'unreadable change in the stream: skipped')
      return null
    }
  }

  private consume(): void {
    const previous = this.consumer
    this.consumer = null
    void previous?.close()
    void (async () => {
      const from = this.streamSeq + 1
      const c = await this.engine.js.consumers.get(STREAM, { filter_subjects: SUBJECTS, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from })
      const it = await c.consume()
      if (this.stopped) return void it.close()
      this.consumer = it
      void this.watchConsumer(it)
      for await (const m of it) {
        if (this.consumer !== it) break
        // Stream sequences have holes (old changes trimmed per account, deleted accounts purged):
        // continuity is checked per account, by seq, where the hub applies.
        if (m.seq <= this.streamSeq) continue
        const applied = await this.applyMessage(m)
        this.streamSeq = m.seq
        this.release()
        if (applied !== null) for (const fn of this.taps) this.tell(fn, m.seq, applied)
      }
    })().catch((err) => {
      if (!this.stopped) {
        this.log.warn({ err }, 'change consumer failed; starting it again')
        setTimeout(() => !this.stopped && this.consume(), 250).unref()
      }
    })
  }

  private async watchConsumer(it: ConsumerMessages): Promise<void> {
    for await (const s of it.status()) {
      if (this.consumer !== it) return
      if (s.type === 'consumer_deleted' || s.type === 'stream_not_found') return void this.checkStream()
      if (s.type === 'heartbeat' && typeof s.lastStreamSequence === 'number' && s.lastStreamSequence > this.streamSeq + 1000) this.consume()
    }
  }

  /** Whether the stream is still the one this node bootstrapped from; if not, start over. */
  async checkStream(created?: string): Promise<void> {
    try {
      const now = (await this.engine.jsm.streams.info(STREAM)).created
      if (created !== undefined && now !== created) this.lost(`the change stream was made again (${created} → ${now})`)
    } catch (err) {
      // Only a stream the engine says is gone; an engine that cannot be reached is not a new epoch.
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) this.lost('the change stream was deleted')
    }
  }

  /** Returns the message applied (or already applied), or null when it was skipped. */
  private async applyMessage(m: JsMsg): Promise<{ accountId: number; message: EngineMessage } | null> {
    const hub = this.hub!
    const d = this.decode(m)
    if (d === null) return null
    if (hub.account(d.accountId) === undefined && !(await this.loadAccount(d.accountId))) return null
    if (d.message.t === 'token') {
      hub.applyInstanceToken(d.message.instanceId, d.message.tokenHash)
      return d
    }
    try {
      hub.apply(d.message.change)
    } catch (err) {
      this.lost(`change ${d.message.change.record.seq} of account ${d.accountId} does not follow what this node applied (${err instanceof Error ? err.message : String(err)})`)
      throw err
    }
    return d
  }

  /** An account created after this node started, whose first change came before its KV entry. */
  private async loadAccount(id: number): Promise<boolean> {
    const e = await this.engine.state.get(K.account(id))
    if (e === null || e.operation !== 'PUT') return false
    this.hub!.applyAccount(e.json<AccountEntry>())
    return true
  }

  private watchAccounts(): void {
    this.accountWatch?.stop()
    this.accountWatch = null
    void (async () => {
      const w = await this.engine.state.watch({ key: 'a.>', resumeFromRevision: this.stateRevision + 1 })
      if (this.stopped) return w.stop()
      this.accountWatch = w
      for await (const e of w) {
        this.stateRevision = Math.max(this.stateRevision, e.revision)
        const id = idOf(e.key, 'a')
        if (id === null) continue
        if (e.operation === 'PUT') this.hub!.applyAccount(e.json<AccountEntry>())
        else if (this.hub!.account(id) !== undefined) this.hub!.deleteAccount(id)
      }
    })().catch((err) => {
      if (!this.stopped) this.log.warn({ err }, 'account watch failed; it restarts at the next reconnect')
    })
  }

  private tell(fn: Tap, streamSeq: number, d: { accountId: number; message: EngineMessage }): void {
    try {
      fn(streamSeq, d.accountId, d.message)
    } catch (err) {
      this.log.error({ err, streamSeq }, 'a change stream tap failed')
    }
  }

  private release(): void {
    if (this.waiters.length === 0) return
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!
      if (w.streamSeq <= this.streamSeq) {
        this.waiters.splice(i, 1)
        w.resolve()
      }
    }
  }

  private lost(why: string): void {
    if (this.restarting || this.stopped) return
    this.restarting = true
    this.log.error({ why }, 'this node lost step with the cluster: it starts over from the engine')
    this.onLost(why)
  }
}
