/**
 * @module The WebSocket fan-out, a change-bus subscriber, and the pacing of every stream socket.
 * Each change's frame is turned into bytes once and published to uWS topics (account and
 * instance), so uWS copies it to every subscriber without re-serialising. A socket that is not live
 * on its topics costs a bounded amount, whatever it missed:
 * - answering a subscribe: its folded changes and the answer's head go first, then a large
 *   snapshot as WebSocket fragments paced by backpressure, then a catch-up that pulls the changes
 *   after the answer's position from the hub page by page as the socket drains (never a queue of
 *   live frames: the ring holds them), until it reaches the head and takes its topics back in the
 *   same turn;
 * - folding (a `latest` subscriber past the buffer bound): at most one pending change per instance.
 * `ordered` subscribers are judged by the slow-consumer rule (4008) only when live or catching up,
 * never while their answer is sent; `latest` ones fold instead of waiting or closing.
 */
import type { TemplatedApp } from 'uWebSockets.js'
import type { BusSubscriber, Change, ChangeRecord } from '../../ports/bus.js'
import { CLOSE } from '../../protocol/close-codes.js'
import { catchupTurn, followsCatchup, followsLive, type CatchupPosition } from '../../stream/catchup.js'
import { Folder, type Foldable } from '../../stream/fold.js'
import type { StreamSource } from '../../stream/plan.js'
import type { StreamCounts } from './counts.js'
import type { Frame, SocketRegistry, StreamSocket, Ws } from './sockets.js'
import { topic } from './sockets.js'
import { applyTopics, dropTopics } from './topics.js'

export interface FanoutLimits {
  /** Outgoing bytes a socket may hold before it is closed (ordered) or folded (latest). */
  maxBufferBytes: number
  /** Bytes of one socket's answer not yet sent (a large snapshot); past it the socket is closed 4008. */
  maxPendingBytes: number
  /** Bytes of every socket's answers not yet sent; past it a new answer is refused with 4029. */
  maxPendingTotalBytes: number
}

/** The answer a socket is being sent, then its catch-up (stream/catchup.ts). */
export interface Sending extends CatchupPosition {
  /** Whole frames to send first, in order: folded changes, `resumed`, a small snapshot. */
  head: Frame[]
  /** A large snapshot's parts still to send as fragments (null: none, or all sent). */
  parts: Buffer[] | null
  /** Whether the first fragment went out (the message is open: nothing else may be sent but fragments). */
  fragmenting: boolean
  /** Bytes of `head` and `parts` not yet sent, counted against the pending bounds. */
  pendingBytes: number
}

/** Snapshot bytes per fragment. */
const FRAGMENT_BYTES = 64 * 1024
/**
 * Control frames (pong, error, unsubscribed) that may wait for an open fragmented message, and that
 * a socket may be given in a row while uWS holds bytes it has not taken.
 */
const MAX_CONTROL = 64

/** The 4008 reason of a socket closed for the answers it does not read. */
export const NOT_READING = 'not reading its answers'

export class Fanout implements BusSubscriber {
  private sweepTimer: NodeJS.Timeout
  private sweepSoon = false
  /** Bytes published to each account since its sockets' buffers were last checked. */
  private readonly unchecked = new Map<number, number>()
  /** Sockets whose pump yielded with work left and no backpressure to wait on. */
  private readonly runnable = new Set<Ws>()
  private pumpSoon = false
  /** Bytes of every socket's answers not yet sent. */
  private pendingTotal = 0
  /** Deliveries handed to uWS since start (topic publishes, not per subscriber), and the slow paths. */
  readonly stats = { published: 0, slowClosed: 0, folded: 0, caughtUp: 0 }
  /** Called when a socket finished its answer and is live again (the next queued subscribe may go). */
  onIdle: (ws: Ws) => void = () => {}

  constructor(
    private readonly app: TemplatedApp,
    private readonly registry: SocketRegistry,
    private readonly hub: Pick<StreamSource, 'changesAfter' | 'account'>,
    private readonly limits: FanoutLimits,
    private readonly counts: StreamCounts,
  ) {
    this.sweepTimer = setInterval(() => this.sweep(), 50)
    this.sweepTimer.unref()
  }

  onChange(r: ChangeRecord): void {
    const bytes = Buffer.from(r.frame)
    const app = this.app
    const account = topic.account(r.accountId)
    // A socket is on the account topic or on instance topics, never both: no frame counts twice.
    this.counts.frames += app.numSubscribers(account)
    app.publish(account, bytes)
    if (r.kind !== 'added') {
      const instance = topic.instance(r.instanceId)
      this.counts.frames += app.numSubscribers(instance)
      app.publish(instance, bytes)
    }
    this.stats.published++

    const detached = this.registry.detached.get(r.accountId)
    if (detached !== undefined) {
      for (const ws of detached) {
        const d = ws.getUserData() as StreamSocket
        // A socket answering or catching up pulls this change from the ring itself.
        if (d.sending === null && d.folding !== null && followsLive(d, r)) d.folding.add(r)
        else if (d.sending !== null && !d.sending.fragmenting) this.wake(ws)
      }
    }
    this.checkAfter(r.accountId, bytes.length)
  }

  onRevoke(tokenHashes: readonly string[]): void {
    for (const hash of tokenHashes) {
      for (const ws of [...(this.registry.byToken.get(hash) ?? [])]) {
        if (!ws.getUserData().closed) ws.end(CLOSE.tokenRevoked, 'token revoked')
      }
    }
  }

  /** Bytes of every socket's answers not yet sent (what the pending bounds count). */
  get pendingBytes(): number {
    return this.pendingTotal
  }

  /** Whether a subscribe's answer is still being sent to this socket (the next one must wait). */
  busy(ws: Ws): boolean {
    return (ws.getUserData() as StreamSocket).sending !== null
  }

  /**
   * Starts sending a subscription's answer. `head` are whole frames (`resumed`, or a snapshot that
   * fits the buffer); `parts` a snapshot to fragment; the catch-up then runs from `after`.
   * Returns false (the socket was closed) when the answer is past a pending bound.
   */
  answer(ws: Ws, a: { head: Frame[]; parts: Buffer[] | null } & CatchupPosition): boolean {
    const d = ws.getUserData() as StreamSocket
    const pendingBytes = a.head.reduce((n, f) => n + f.length, 0) + (a.parts?.reduce((n, b) => n + b.length, 0) ?? 0)
    if (pendingBytes > this.limits.maxPendingBytes) {
      this.slowClose(ws, 'snapshot past the byte bound')
      return false
    }
    if (this.pendingTotal + pendingBytes > this.limits.maxPendingTotalBytes) {
      ws.end(CLOSE.rateLimited, 'hub busy: too many answers in flight, retry later')
      return false
    }
    // Folded changes are older than the answer, so they go first.
    const folded = d.folding?.drain() ?? []
    d.folding = null
    dropTopics(ws)
    this.registry.detach(ws)
    d.sending = { head: [...folded, ...a.head], parts: a.parts, fragmenting: false, pendingBytes, after: a.after, split: a.split, answerFollows: a.answerFollows }
    this.pendingTotal += pendingBytes
    this.pump(ws)
    return true
  }

  /**
   * A small answer (pong, error, unsubscribed): it must not interleave with an open fragmented
   * message, so it waits for that message's end. It counts against the socket's unread bytes: uWS
   * holds bytes only while the kernel's buffers towards the client are full, so a socket that asks
   * for more than MAX_CONTROL answers while uWS never once got rid of what it holds is not reading,
   * and is closed with 4008 (answers cannot be folded). Not "at the buffer bound": a paused client's
   * kernel buffers keep growing for a while, taking a little from uWS now and then, and the bound is
   * the pump's refill mark, so the buffer dips below it with every drain. Only answers given while
   * uWS holds bytes are counted; a buffer found empty starts the count again.
   */
  control(ws: Ws, frame: string): void {
    const d = ws.getUserData() as StreamSocket
    if (d.closed) return
    if (ws.getBufferedAmount() === 0) d.unreadControl = 0
    else if (++d.unreadControl > MAX_CONTROL) return this.slowClose(ws, NOT_READING)
    if (d.sending?.fragmenting !== true) {
      ws.send(frame)
      return
    }
    if (d.control.length >= MAX_CONTROL) return this.slowClose(ws, NOT_READING)
    d.control.push(frame)
  }

  /** Whether the answer in flight still has frames not handed to uWS (its client cannot have it whole yet). */
  unsent(ws: Ws): boolean {
    const s = (ws.getUserData() as StreamSocket).sending
    return s !== null && (s.head.length > 0 || s.parts !== null)
  }

  /** Checks every stream socket's buffer; also runs from `drain`. */
  sweep(): void {
    this.unchecked.clear()
    for (const ws of this.registry.streams) this.check(ws)
  }

  /**
   * uWS closes a socket whose buffer passes its hard cap (4× the bound) without a close frame.
   * uWS buffers a publish synchronously, so a burst within one turn would reach that cap before
   * any timer runs: checking an account's sockets each time the bound's worth of bytes has been
   * published to it keeps a live socket under about twice the bound, so a `latest` one is folded
   * and an `ordered` one gets its 4008 first.
   */
  private checkAfter(accountId: number, bytes: number): void {
    const total = (this.unchecked.get(accountId) ?? 0) + bytes
    if (total < this.limits.maxBufferBytes) this.unchecked.set(accountId, total)
    else {
      this.unchecked.delete(accountId)
      for (const ws of [...this.registry.streamsOf(accountId)]) this.check(ws)
    }
    if (!this.sweepSoon) {
      this.sweepSoon = true
      setImmediate(() => {
        this.sweepSoon = false
        this.sweep()
      })
    }
  }

  check(ws: Ws): void {
    const d = ws.getUserData() as StreamSocket
    if (d.closed) return
    if (d.sending !== null) return this.pump(ws)
    const buffered = ws.getBufferedAmount()
    if (d.folding !== null) {
      if (buffered <= this.limits.maxBufferBytes / 2) this.flushFolded(ws, d)
      return
    }
    if (buffered <= this.limits.maxBufferBytes) return
    if (d.mode === 'ordered') return this.slowClose(ws)
    this.startFolding(ws, d)
  }

  close(): void {
    clearInterval(this.sweepTimer)
  }

  /** Forgets what a closed socket held against the pending bounds. */
  closed(ws: Ws): void {
    const d = ws.getUserData() as StreamSocket
    if (d.sending !== null) this.pendingTotal -= d.sending.pendingBytes
    d.sending = null
    this.runnable.delete(ws)
  }

  /**
   * Sends what the socket's answer still has, as far as its buffer allows and at most a bounded
   * amount of work this turn: head frames, fragments, then catch-up pages. Backpressure waits for
   * `drain`; work left without backpressure continues next turn.
   */
  private pump(ws: Ws): void {
    const d = ws.getUserData() as StreamSocket
    const s = d.sending
    if (d.closed || s === null) return
    const bound = this.limits.maxBufferBytes
    ws.cork(() => {
      while (s.head.length > 0 && ws.getBufferedAmount() < bound) {
        const f = s.head.shift()!
        this.sent(s, f.length)
        ws.send(f)
        this.counts.frames++
      }
      while (s.head.length === 0 && s.parts !== null && ws.getBufferedAmount() < bound) this.fragment(ws, d, s)
    })
    if (s.head.length > 0 || s.parts !== null) return
    const room = () => ws.getBufferedAmount() < bound || d.mode === 'latest'
    const end = catchupTurn(this.hub, d.principal.accountId, s, room, (page) => {
      let i = 0
      if (d.folding === null) {
        ws.cork(() => {
          for (; i < page.length && ws.getBufferedAmount() < bound; i++) {
            const c = page[i]!
            if (followsCatchup(d, s, c)) {
              ws.send(c.frame)
              this.counts.frames++
            }
            s.after = c.seq
          }
        })
      }
      if (i === page.length || d.mode === 'ordered') return
      // `latest`: what it cannot take now is folded (and so is all that follows, to keep the
      // order), so it never falls behind the ring.
      d.folding ??= new Folder()
      for (; i < page.length; i++) {
        const c = page[i]!
        if (followsCatchup(d, s, c)) d.folding.add(foldable(c))
        s.after = c.seq
      }
    })
    if (end === 'more') this.wake(ws)
    else if (end === 'behind') this.slowClose(ws, 'fell behind the kept changes')
    else if (end === 'caughtUp') this.caughtUp(ws, d)
  }

  /** Sends the next fragment of a large snapshot; the message closes with its last part. */
  private fragment(ws: Ws, d: StreamSocket, s: Sending): void {
    const parts = s.parts!
    let size = 0
    let n = 0
    while (n < parts.length && (n === 0 || size + parts[n]!.length <= FRAGMENT_BYTES)) size += parts[n++]!.length
    const chunk = Buffer.concat(parts.splice(0, n), size)
    this.sent(s, size)
    const last = parts.length === 0
    if (!s.fragmenting && last) ws.send(chunk)
    else if (!s.fragmenting) ws.sendFirstFragment(chunk)
    else if (last) ws.sendLastFragment(chunk)
    else ws.sendFragment(chunk)
    s.fragmenting = !last
    if (!last) return
    this.counts.frames++
    s.parts = null
    for (const f of d.control.splice(0)) ws.send(f)
  }

  private sent(s: Sending, bytes: number): void {
    s.pendingBytes -= bytes
    this.pendingTotal -= bytes
  }

  /** Caught up with the head: live on its topics again in this same turn, so nothing is missed. */
  private caughtUp(ws: Ws, d: StreamSocket): void {
    this.stats.caughtUp++
    this.pendingTotal -= d.sending!.pendingBytes
    d.sending = null
    this.runnable.delete(ws)
    if (d.folding !== null) {
      // A `latest` socket that folded its catch-up keeps folding live changes until it drains.
      this.stats.folded++
      if (ws.getBufferedAmount() <= this.limits.maxBufferBytes / 2) this.flushFolded(ws, d)
    } else {
      this.rejoin(ws)
    }
    if (!d.closed) this.onIdle(ws)
  }

  private wake(ws: Ws): void {
    this.runnable.add(ws)
    if (this.pumpSoon) return
    this.pumpSoon = true
    setImmediate(() => {
      this.pumpSoon = false
      const due = [...this.runnable]
      this.runnable.clear()
      for (const w of due) this.pump(w)
    })
  }

  private startFolding(ws: Ws, d: StreamSocket): void {
    this.stats.folded++
    dropTopics(ws)
    d.folding = new Folder()
    this.registry.detach(ws)
  }

  private flushFolded(ws: Ws, d: StreamSocket): void {
    const frames = d.folding!.drain()
    d.folding = null
    ws.cork(() => {
      for (const f of frames) ws.send(f)
    })
    this.counts.frames += frames.length
    this.rejoin(ws)
  }

  private slowClose(ws: Ws, reason = 'slow consumer'): void {
    this.stats.slowClosed++
    this.counts.slowConsumers++
    ws.end(CLOSE.slowConsumer, reason)
  }

  private rejoin(ws: Ws): void {
    this.registry.attach(ws)
    applyTopics(ws)
  }
}

/**
 * A kept change as the folder needs it, its fields read back from the frame. Kept on purpose: a
 * catch-up page comes from the ring or, older than the ring, from the store's change log, and both
 * hold only the frame; carrying these fields in the ring's Change alone would still need this for
 * the log, and in the log too would widen every stored row, for a path only a `latest` socket that
 * folds its catch-up takes.
 */
function foldable(c: Change): Foldable {
  const f = JSON.parse(c.frame) as { epoch: string; version?: number; at?: string; changes?: Record<string, unknown>; instance: unknown }
  return {
    ...c,
    epoch: f.epoch,
    version: f.version ?? 0,
    time: f.at ?? '',
    changes: f.changes ?? null,
    item: c.kind === 'added' ? (f.instance as Foldable['item']) : null,
  }
}
