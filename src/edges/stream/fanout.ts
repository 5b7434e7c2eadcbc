/**
 * @module The WebSocket fan-out, a change-bus subscriber. Each change's frame is turned into bytes
 * once and published to uWS topics (account and instance), so uWS copies it to every subscriber
 * without re-serialising. A socket that cannot take its frames now is detached from its topics:
 * its frames wait in order in a backlog, and a `latest` subscriber's changes are folded per
 * instance behind it (folded frames are the only ones encoded again). `ordered` subscribers past
 * the bound are closed with 4008; `latest` ones are never closed for being slow.
 */
import type { TemplatedApp } from 'uWebSockets.js'
import type { BusSubscriber, ChangeRecord } from '../../ports/bus.js'
import { CLOSE } from '../../protocol/close-codes.js'
import { Folder } from '../../stream/fold.js'
import type { Frame, SocketRegistry, StreamSocket, Ws } from './sockets.js'
import { topic } from './sockets.js'
import { applyTopics, dropTopics } from './topics.js'

export interface FanoutLimits {
  /** Outgoing bytes a socket may hold before it is closed (ordered) or folded (latest). */
  maxBufferBytes: number
  /** Frames a detached socket may have waiting before it is closed (ordered) or folds the rest (latest). */
  maxBacklogFrames: number
}

export class Fanout implements BusSubscriber {
  private sweepTimer: NodeJS.Timeout
  private sweepSoon = false
  /** Bytes published to each account since its sockets' buffers were last checked. */
  private readonly unchecked = new Map<number, number>()
  /** Deliveries handed to uWS since start (topic publishes, not per subscriber). */
  readonly stats = { published: 0, slowClosed: 0, folded: 0 }

  constructor(
    private readonly app: TemplatedApp,
    private readonly registry: SocketRegistry,
    private readonly limits: FanoutLimits,
  ) {
    this.sweepTimer = setInterval(() => this.sweep(), 50)
    this.sweepTimer.unref()
  }

  onChange(r: ChangeRecord): void {
    const bytes = Buffer.from(r.frame)
    this.app.publish(topic.account(r.accountId), bytes)
    if (r.kind !== 'added') this.app.publish(topic.instance(r.instanceId), bytes)
    this.stats.published++

    const detached = this.registry.detached.get(r.accountId)
    if (detached !== undefined) for (const ws of [...detached]) this.hold(ws, r)

    this.checkAfter(r.accountId, bytes.length)
  }

  onRevoke(tokenHashes: readonly string[]): void {
    for (const hash of tokenHashes) {
      for (const ws of [...(this.registry.byToken.get(hash) ?? [])]) {
        if (!ws.getUserData().closed) ws.end(CLOSE.tokenRevoked, 'token revoked')
      }
    }
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
    if (d.backlog !== null) {
      this.drainBacklog(ws, d)
      // Still draining, or just rejoined its topics: the next check judges the new buffer.
      if (d.backlog !== null || d.folding === null) return
    }
    const buffered = ws.getBufferedAmount()
    if (d.folding !== null) {
      if (buffered <= this.limits.maxBufferBytes / 2) this.flushFolded(ws, d)
      return
    }
    if (buffered <= this.limits.maxBufferBytes) return
    if (d.mode === 'ordered') return this.slowClose(ws)
    this.stats.folded++
    dropTopics(ws)
    d.folding = new Folder()
    this.registry.detach(ws)
  }

  /**
   * Sends a subscription's answer (a snapshot, or `resumed` and the replay) behind everything the
   * socket still has waiting, so its seq never goes backwards. What does not fit the buffer waits
   * in the backlog, with live changes queued behind it, and goes out as the socket drains.
   */
  answer(ws: Ws, frames: Frame[]): void {
    const d = ws.getUserData() as StreamSocket
    if (d.backlog === null && d.folding === null) {
      let sent = 0
      ws.cork(() => {
        while (sent < frames.length && ws.getBufferedAmount() < this.limits.maxBufferBytes) ws.send(frames[sent++]!)
      })
      if (sent === frames.length) return
      dropTopics(ws)
      d.backlog = frames.slice(sent)
      this.registry.detach(ws)
      return
    }
    const backlog = (d.backlog ??= [])
    // Folded changes are older than the answer, so they go first; the socket stops folding.
    if (d.folding !== null) for (const f of d.folding.drain()) backlog.push(f)
    d.folding = null
    for (const f of frames) backlog.push(f)
    // Answers cannot be folded: a socket that keeps subscribing without reading is slow in any mode.
    if (backlog.length > this.limits.maxBacklogFrames) return this.slowClose(ws)
    this.drainBacklog(ws, d)
  }

  private drainBacklog(ws: Ws, d: StreamSocket): void {
    const backlog = d.backlog!
    let sent = 0
    ws.cork(() => {
      while (sent < backlog.length && ws.getBufferedAmount() < this.limits.maxBufferBytes) ws.send(backlog[sent++]!)
    })
    backlog.splice(0, sent)
    if (backlog.length > 0) return
    d.backlog = null
    if (d.folding === null) this.rejoin(ws)
  }

  close(): void {
    clearInterval(this.sweepTimer)
  }

  private slowClose(ws: Ws): void {
    this.stats.slowClosed++
    ws.end(CLOSE.slowConsumer, 'slow consumer')
  }

  private rejoin(ws: Ws): void {
    this.registry.attach(ws)
    applyTopics(ws)
  }

  private hold(ws: Ws, r: ChangeRecord): void {
    const d = ws.getUserData() as StreamSocket
    if (d.closed) return
    if (!d.all && !d.ids.has(r.instanceId)) return
    if (r.kind === 'added' && !d.all) return
    if (d.folding === null) {
      if (d.backlog === null) return
      if (d.backlog.length < this.limits.maxBacklogFrames) {
        d.backlog.push(r.frame)
        return
      }
      // A socket that cannot catch up is as slow as one that stopped reading; `latest` folds instead.
      if (d.mode === 'ordered') return this.slowClose(ws)
      this.stats.folded++
      d.folding = new Folder()
    }
    d.folding.add(r)
  }

  private flushFolded(ws: Ws, d: StreamSocket): void {
    const frames = d.folding!.drain()
    d.folding = null
    ws.cork(() => {
      for (const f of frames) ws.send(f)
    })
    this.rejoin(ws)
  }
}
