/**
 * @module The hub's stream listener for the uWS edges. Each change frame is turned into bytes once
 * and published to uWS topics (account and instance), so uWS copies it to every subscriber without
 * re-serialising. A socket that cannot take its frames now is detached from its topics: its frames
 * wait in order in a backlog, and a `latest` subscriber's changes are folded per instance behind
 * it. `ordered` subscribers past the bound are closed with 4008; `latest` ones are never closed
 * for being slow.
 */
import type { TemplatedApp } from 'uWebSockets.js'
import type { ChangeEvent, StreamListener } from '../../../hub/model.js'
import { CLOSE } from '../../../protocol/frames.js'
import { applyTopics, dropTopics } from './subscribe.js'
import { topic, type Frame, type Pending, type SocketRegistry, type StreamSocket, type Ws } from './sockets.js'
import type { SseHub } from './sse.js'

export interface FanoutLimits {
  /** Outgoing bytes a socket may hold before it is closed (ordered) or folded (latest). */
  maxBufferBytes: number
  /** Frames a detached socket may have waiting before it is closed (ordered) or folds the rest (latest). */
  maxBacklogFrames: number
}

export class Fanout implements StreamListener {
  private sweepTimer: NodeJS.Timeout
  private sweepSoon = false
  /** Bytes published to each account since its sockets' buffers were last checked. */
  private readonly unchecked = new Map<number, number>()
  /** Deliveries handed to uWS since start (topic publishes, not per subscriber). */
  readonly stats = { published: 0, slowClosed: 0, folded: 0 }

  constructor(
    private readonly app: TemplatedApp,
    private readonly registry: SocketRegistry,
    private readonly sse: SseHub,
    private readonly limits: FanoutLimits,
  ) {
    this.sweepTimer = setInterval(() => this.sweep(), 50)
    this.sweepTimer.unref()
  }

  onChange(e: ChangeEvent): void {
    const bytes = Buffer.from(e.frame)
    this.app.publish(topic.account(e.account.id), bytes)
    if (e.kind !== 'added') this.app.publish(topic.instance(e.instance.id), bytes)
    this.stats.published++

    const detached = this.registry.detached.get(e.account.id)
    if (detached !== undefined) for (const ws of [...detached]) this.hold(ws, e)

    this.sse.onChange(e)
    this.checkAfter(e.account.id, bytes.length)

    if (e.kind === 'diff' && e.changes !== null && Object.keys(e.changes).some((k) => k.startsWith('connection.'))) {
      const cfg = e.instance.config.websocket
      if (cfg.enabled && cfg.events.includes('instance.state') && this.app.numSubscribers(topic.ryze(e.instance.id)) > 0) {
        this.app.publish(topic.ryze(e.instance.id), ryzeStateFrame(e.instance.name, e.instance.status))
      }
    }
  }

  onRevoke(tokenHashes: string[]): void {
    for (const hash of tokenHashes) {
      for (const ws of [...(this.registry.byToken.get(hash) ?? [])]) {
        if (!ws.getUserData().closed) ws.end(CLOSE.revoked, 'token revoked')
      }
      this.sse.revoke(hash)
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
    d.folding = new Map()
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
    if (d.folding !== null) for (const f of this.foldedFrames(d)) backlog.push(f)
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

  private hold(ws: Ws, e: ChangeEvent): void {
    const d = ws.getUserData() as StreamSocket
    if (d.closed) return
    if (!d.all && !d.ids.has(e.instance.id)) return
    if (e.kind === 'added' && !d.all) return
    if (d.folding === null) {
      if (d.backlog === null) return
      if (d.backlog.length < this.limits.maxBacklogFrames) {
        d.backlog.push(e.frame)
        return
      }
      // A socket that cannot catch up is as slow as one that stopped reading; `latest` folds instead.
      if (d.mode === 'ordered') return this.slowClose(ws)
      this.stats.folded++
      d.folding = new Map()
    }
    const prev = d.folding.get(e.instance.id)
    const next: Pending = {
      kind: e.kind,
      seq: e.seq,
      name: e.instance.name,
      version: e.instance.version,
      at: e.instance.updatedAt,
      changes: e.changes ?? {},
    }
    if (prev !== undefined && e.kind === 'diff') {
      // A client that never saw the `added` gets it with the latest item; diffs merge, newest wins.
      next.kind = prev.kind === 'added' ? 'added' : 'diff'
      next.changes = { ...prev.changes, ...next.changes }
    }
    if (prev?.kind === 'added' && e.kind === 'removed') d.folding.delete(e.instance.id)
    else d.folding.set(e.instance.id, next)
  }

  /** The folded changes as frames, in seq order. At most one per instance, so this is bounded. */
  private foldedFrames(d: StreamSocket): string[] {
    const epoch = this.epoch()
    return [...(d.folding?.values() ?? [])].sort((a, b) => a.seq - b.seq).map((p) => foldedFrame(epoch, p, d))
  }

  private flushFolded(ws: Ws, d: StreamSocket): void {
    const frames = this.foldedFrames(d)
    d.folding = null
    ws.cork(() => {
      for (const f of frames) ws.send(f)
    })
    this.rejoin(ws)
  }

  epoch: () => string = () => ''
}

function foldedFrame(epoch: string, p: Pending, d: StreamSocket): string {
  if (p.kind === 'removed') return JSON.stringify({ type: 'removed', epoch, seq: p.seq, instance: p.name })
  if (p.kind === 'added') {
    const inst = d.principal.account.byName.get(p.name)
    return JSON.stringify({ type: 'added', epoch, seq: p.seq, instance: inst?.item ?? { name: p.name } })
  }
  return JSON.stringify({ type: 'diff', epoch, seq: p.seq, instance: p.name, version: p.version, at: p.at, changes: p.changes })
}

/** RyzeAPI's `instance.state` frame; never carries a token. */
export function ryzeStateFrame(name: string, s: ChangeEvent['instance']['status']): string {
  return JSON.stringify({
    event: 'instance.state',
    data: { state: s.state, numberJid: s.numberJid, presenceStatus: s.presenceStatus, displayStatus: s.displayStatus, reason: s.reason },
    instanceData: { instance: name },
  })
}
