/**
 * @module Server-Sent Events: `GET /api/instance/stream` for clients that cannot speak WebSocket,
 * a change-bus subscriber. The same frames as the WebSocket, one event each (`id: <epoch>:<seq>`),
 * planned by stream/plan.ts like a WebSocket subscribe: `?instanceName=` follows the list's filter
 * rules and `Last-Event-ID` resumes exactly as `since` does. The answer is paced like the
 * WebSocket's: the snapshot written as the connection drains, then a catch-up pulled page by page
 * from the hub, then live events. A client whose unsent bytes pass the bound is disconnected (it
 * resumes).
 */
import type { Logger } from 'pino'
import { HubError, MSG } from '../../core/errors.js'
import type { TenantPrincipal } from '../../hub/model.js'
import type { BusSubscriber, ChangeRecord } from '../../ports/bus.js'
import { resumedFrame, snapshotParts } from '../../protocol/frames.js'
import { listQuery } from '../../protocol/rest-bodies.js'
import { sseStream } from '../../protocol/rest-responses.js'
import { catchupFrom, catchupTurn, followsCatchup, followsLive, type CatchupPosition, type Following } from '../../stream/catchup.js'
import { planAnswer, resolveTargets, type Position, type StreamSource } from '../../stream/plan.js'
import { sendFailure, type Ctx } from '../http/http.js'
import type { Router } from '../http/route.js'
import type { StreamCounts } from './counts.js'
import { spend, type StreamBudgets } from './ws-route.js'

interface Catchup extends CatchupPosition {
  /** Text still to write before the catch-up: the answer's first events. */
  chunks: (string | Buffer)[]
}

interface SseClient extends Following {
  ctx: Ctx
  tokenHash: string
  accountId: number
  /** Non-null until the answer and its catch-up are written; live events start after it. */
  catchup: Catchup | null
  /** Bytes handed to uWS that it could not write yet. */
  backlog: number
}

const HEARTBEAT_MS = 20_000

const event = (epoch: string, seq: number, kind: string, data: string) => `id: ${epoch}:${seq}\nevent: ${kind}\ndata: ${data}\n\n`

export class SseStreams implements BusSubscriber {
  private readonly byAccount = new Map<number, Set<SseClient>>()
  private readonly heartbeat: NodeJS.Timeout
  private readonly runnable = new Set<SseClient>()
  private pumpSoon = false

  constructor(
    private readonly hub: StreamSource,
    private readonly limits: { wsMaxBufferBytes: number; streamMaxReplay: number },
    private readonly budgets: StreamBudgets,
    private readonly log: Logger,
    private readonly counts: StreamCounts,
  ) {
    this.heartbeat = setInterval(() => {
      for (const set of this.byAccount.values()) for (const c of set) if (c.catchup === null) this.write(c, ': ping\n\n')
    }, HEARTBEAT_MS)
    this.heartbeat.unref()
  }

  mount(r: Router): void {
    r.add(
      'get',
      '/api/instance/stream',
      {
        tag: 'Streams',
        description:
          'Server-Sent Events of the account (or the instances `instanceName` names, as the list filters them): a `snapshot` event, then one event per change (`diff`, `added`, `removed`), each `id: <epoch>:<seq>`. `Last-Event-ID` resumes exactly as a WebSocket `since` does (a `resumed` event, then the missed changes). For browsers: listen with `addEventListener(\'diff\', …)`, since every event is named.',
        query: listQuery,
        lastEventId: true,
        response: sseStream,
        produces: 'text/event-stream',
        errors: [404],
      },
      (ctx, p, _b, q) => this.open(ctx, p as TenantPrincipal, q.instanceName),
    )
  }

  onChange(r: ChangeRecord): void {
    const set = this.byAccount.get(r.accountId)
    if (set === undefined) return
    let text: string | null = null
    for (const c of set) {
      if (c.catchup !== null) this.wake(c)
      else if (followsLive(c, r)) {
        this.counts.frames++
        this.write(c, (text ??= event(r.epoch, r.seq, r.kind, r.frame)))
      }
    }
  }

  onRevoke(tokenHashes: readonly string[]): void {
    const revoked = new Set(tokenHashes)
    for (const set of this.byAccount.values()) for (const c of [...set]) if (revoked.has(c.tokenHash)) this.end(c)
  }

  get clients(): number {
    let n = 0
    for (const set of this.byAccount.values()) n += set.size
    return n
  }

  /** Open streams per account id. */
  clientsByAccount(): Map<number, number> {
    const out = new Map<number, number>()
    for (const [id, set] of this.byAccount) if (set.size > 0) out.set(id, set.size)
    return out
  }

  close(): void {
    clearInterval(this.heartbeat)
    for (const set of this.byAccount.values()) for (const c of [...set]) this.end(c)
  }

  private open(ctx: Ctx, p: TenantPrincipal, raw: string | undefined): void {
    const hub = this.hub
    const since = parseLastEventId(ctx.lastEventId)
    const targets = resolveTargets(hub, p, raw === undefined ? { kind: 'all' } : { kind: 'filter', raw }, since !== null)
    if (ctx.head) return this.head(ctx)
    const answer = planAnswer(hub, p.accountId, targets, since ?? undefined, this.limits.streamMaxReplay)
    if (!spend(this.budgets, p.accountId, answer)) {
      throw new HubError('rateLimited', MSG.rateLimited, 1)
    }
    if (since !== null) this.counts.resumed(answer.kind)
    // The answer (a snapshot or `resumed`) is one event.
    this.counts.frames++
    const epoch = hub.epoch
    const catchup: Catchup = {
      chunks:
        answer.kind === 'resumed'
          ? [event(epoch, answer.since, 'resumed', resumedFrame(undefined, epoch, answer.since))]
          : grouped([Buffer.from(`id: ${epoch}:${answer.seq}\nevent: snapshot\ndata: `), ...snapshotParts(undefined, epoch, answer.seq, answer.items), Buffer.from('\n\n')]),
      ...catchupFrom(hub, p.accountId, targets, answer),
    }
    const ids = new Set(targets.all ? [] : targets.instances.map((t) => t.id))
    const client: SseClient = { ctx, tokenHash: p.tokenHash, accountId: p.accountId, all: targets.all, ids, catchup, backlog: 0 }
    ctx.res.onAborted(() => {
      ctx.done = true
      this.forget(client)
    })
    ctx.res.onWritable(() => {
      client.backlog = 0
      this.pump(client)
      return true
    })
    ctx.counts?.add(200)
    ctx.res.cork(() => {
      ctx.res.writeStatus('200 OK')
      for (const [k, v] of ctx.headers) ctx.res.writeHeader(k, v)
      ctx.res.writeHeader('Content-Type', 'text/event-stream').writeHeader('Cache-Control', 'no-cache').writeHeader('X-Accel-Buffering', 'no')
      ctx.res.write('retry: 2000\n\n')
    })
    let set = this.byAccount.get(p.accountId)
    if (set === undefined) this.byAccount.set(p.accountId, (set = new Set()))
    set.add(client)
    this.pump(client)
  }

  /** HEAD: the stream's headers, no events. */
  private head(ctx: Ctx): void {
    ctx.done = true
    ctx.counts?.add(200)
    ctx.res.cork(() => {
      ctx.res.writeStatus('200 OK')
      for (const [k, v] of ctx.headers) ctx.res.writeHeader(k, v)
      ctx.res.writeHeader('Content-Type', 'text/event-stream').writeHeader('Cache-Control', 'no-cache').writeHeader('X-Accel-Buffering', 'no')
      ctx.res.endWithoutBody()
    })
  }

  /** Writes the answer, then the catch-up pages, until the connection pushes back or the client is live. */
  private pump(c: SseClient): void {
    const k = c.catchup
    if (c.ctx.done || k === null) return
    while (k.chunks.length > 0) if (!this.write(c, k.chunks.shift()!)) return
    // Paced by this call's own writes: a wake while uWS still holds bytes writes one more page before it stops.
    let written = true
    const end = catchupTurn(this.hub, c.accountId, k, () => written, (page) => {
      let text = ''
      for (const ch of page) {
        if (!followsCatchup(c, k, ch)) continue
        text += event(this.hub.epoch, ch.seq, ch.kind, ch.frame)
        this.counts.frames++
      }
      k.after = page[page.length - 1]!.seq
      if (text !== '') written = this.write(c, text)
    })
    if (end === 'more') this.wake(c)
    // Fell behind what is kept: it resumes, and gets a snapshot.
    else if (end === 'behind') {
      this.counts.slowConsumers++
      this.end(c)
    }
    else if (end === 'caughtUp') c.catchup = null
  }

  private wake(c: SseClient): void {
    this.runnable.add(c)
    if (this.pumpSoon) return
    this.pumpSoon = true
    setImmediate(() => {
      this.pumpSoon = false
      const due = [...this.runnable]
      this.runnable.clear()
      for (const x of due) this.pump(x)
    })
  }

  /** False when uWS had to keep some of it (the connection pushes back): the caller stops until writable. */
  private write(c: SseClient, text: string | Buffer): boolean {
    if (c.ctx.done) return false
    try {
      let ok = true
      c.ctx.res.cork(() => {
        ok = c.ctx.res.write(text)
      })
      c.backlog = ok ? 0 : c.backlog + (typeof text === 'string' ? Buffer.byteLength(text) : text.length)
      if (c.backlog > this.limits.wsMaxBufferBytes && c.catchup === null) {
        this.counts.slowConsumers++
        this.end(c)
      }
      return ok
    } catch (err) {
      this.log.debug({ err }, 'sse write failed')
      this.end(c)
      return false
    }
  }

  private forget(c: SseClient): void {
    this.byAccount.get(c.accountId)?.delete(c)
    this.runnable.delete(c)
  }

  private end(c: SseClient): void {
    this.forget(c)
    if (c.ctx.done) return
    c.ctx.done = true
    try {
      c.ctx.res.cork(() => c.ctx.res.end())
    } catch (err) {
      sendFailure(c.ctx, err, this.log)
    }
  }
}

/** Parts joined into writes of about 64 KiB: one write per item would cost a syscall each. */
function grouped(parts: Buffer[]): Buffer[] {
  const out: Buffer[] = []
  let run: Buffer[] = []
  let size = 0
  for (const p of parts) {
    run.push(p)
    size += p.length
    if (size >= 64 * 1024) {
      out.push(Buffer.concat(run, size))
      run = []
      size = 0
    }
  }
  if (run.length > 0) out.push(Buffer.concat(run, size))
  return out
}

function parseLastEventId(raw: string): Position | null {
  const m = /^([A-Za-z0-9]{1,64}):(\d{1,15})$/.exec(raw.trim())
  return m === null ? null : { epoch: m[1]!, seq: Number(m[2]) }
}
