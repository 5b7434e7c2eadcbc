/**
 * @module The hub's stream listener for the uWS edges. Each change frame is turned into bytes once
 * and published to uWS topics (account and instance), so uWS copies it to every subscriber without
 * re-serialising. `latest` subscribers under backpressure are unsubscribed and have their changes
 * folded per instance until they drain; `ordered` ones past the bound are closed with 4008.
 */
import type { TemplatedApp } from 'uWebSockets.js'
import type { ChangeEvent, StreamListener } from '../../../hub/model.js'
import { CLOSE } from '../../../protocol/frames.js'
import { applyTopics, dropTopics } from './subscribe.js'
import { topic, type Pending, type SocketRegistry, type StreamSocket, type Ws } from './sockets.js'
import type { SseHub } from './sse.js'

export interface FanoutLimits {
  /** Outgoing bytes a socket may hold before it is closed (ordered) or folded (latest). */
  maxBufferBytes: number
  /** Frames a catching-up socket may have waiting before it counts as a slow consumer. */
  maxBacklogFrames: number
}

export class Fanout implements StreamListener {
  private sweepTimer: NodeJS.Timeout
  private sweepSoon = false
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
    // A burst can fill buffers long before the periodic sweep: check once after this turn.
    if (!this.sweepSoon) {
      this.sweepSoon = true
      setImmediate(() => {
        this.sweepSoon = false
        this.sweep()
      })
    }

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
    for (const ws of this.registry.streams) this.check(ws)
  }

  check(ws: Ws): void {
    const d = ws.getUserData() as StreamSocket
    if (d.closed) return
    if (d.backlog !== null) return this.drainBacklog(ws, d)
    const buffered = ws.getBufferedAmount()
    if (d.folding === null) {
      if (buffered <= this.limits.maxBufferBytes) return
      if (d.mode === 'ordered') {
        this.stats.slowClosed++
        ws.end(CLOSE.slowConsumer, 'slow consumer')
        return
      }
      this.stats.folded++
      dropTopics(ws)
      d.folding = new Map()
      this.registry.detach(ws)
      return
    }
    if (buffered <= this.limits.maxBufferBytes / 2) this.flushFolded(ws)
  }

  /** Starts sending `frames` (a resume) at the pace the socket drains, holding live changes behind them. */
  catchUp(ws: Ws, frames: string[]): void {
    const d = ws.getUserData() as StreamSocket
    dropTopics(ws)
    d.folding = null
    d.backlog = frames
    this.registry.detach(ws)
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
    this.registry.attach(ws)
    applyTopics(ws)
  }

  close(): void {
    clearInterval(this.sweepTimer)
  }

  private hold(ws: Ws, e: ChangeEvent): void {
    const d = ws.getUserData() as StreamSocket
    if (!d.all && !d.ids.has(e.instance.id)) return
    if (e.kind === 'added' && !d.all) return
    if (d.backlog !== null) {
      d.backlog.push(e.frame)
      // A socket that cannot catch up is as slow as one that stopped reading.
      if (d.backlog.length > this.limits.maxBacklogFrames) {
        this.stats.slowClosed++
        ws.end(CLOSE.slowConsumer, 'slow consumer')
      }
      return
    }
    if (d.folding === null) return
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

  private flushFolded(ws: Ws): void {
    const d = ws.getUserData() as StreamSocket
    const pending = [...(d.folding?.values() ?? [])].sort((a, b) => a.seq - b.seq)
    this.registry.attach(ws)
    const epoch = this.epoch()
    ws.cork(() => {
      for (const p of pending) ws.send(foldedFrame(epoch, p, d))
      applyTopics(ws)
    })
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
