/**
 * @module Server-Sent Events: `GET /api/instance/stream` for clients that cannot speak WebSocket,
 * a change-bus subscriber. The same frames as the WebSocket, one event each (`id: <epoch>:<seq>`),
 * planned by stream/plan.ts like a WebSocket subscribe: `?instanceName=` follows the list's filter
 * rules and `Last-Event-ID` resumes exactly as `since` does. A client whose unsent bytes pass the
 * bound is disconnected (it resumes).
 */
import type { Logger } from 'pino'
import type { TenantPrincipal } from '../../hub/model.js'
import type { BusSubscriber, ChangeRecord } from '../../ports/bus.js'
import { resumedFrame, snapshotFrame } from '../../protocol/frames.js'
import { listQuery } from '../../protocol/rest-bodies.js'
import { sseStream } from '../../protocol/rest-responses.js'
import { planAnswer, resolveTargets, type Position, type StreamSource } from '../../stream/plan.js'
import { sendFailure, type Ctx } from '../http/http.js'
import type { Router } from '../http/route.js'

interface SseClient {
  ctx: Ctx
  tokenHash: string
  accountId: number
  /** null = every instance of the account, including later ones. */
  ids: Set<number> | null
  /** Bytes handed to uWS that it could not write yet. */
  backlog: number
}

const HEARTBEAT_MS = 20_000

const event = (epoch: string, seq: number, kind: string, data: string) => `id: ${epoch}:${seq}\nevent: ${kind}\ndata: ${data}\n\n`

export class SseStreams implements BusSubscriber {
  private readonly byAccount = new Map<number, Set<SseClient>>()
  private readonly heartbeat: NodeJS.Timeout

  constructor(
    private readonly hub: StreamSource,
    private readonly maxBufferBytes: number,
    private readonly log: Logger,
  ) {
    this.heartbeat = setInterval(() => {
      for (const set of this.byAccount.values()) for (const c of set) this.write(c, ': ping\n\n')
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
    const text = event(r.epoch, r.seq, r.kind, r.frame)
    for (const c of set) {
      if (c.ids === null || (c.ids.has(r.instanceId) && r.kind !== 'added')) this.write(c, text)
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

  close(): void {
    clearInterval(this.heartbeat)
    for (const set of this.byAccount.values()) for (const c of [...set]) this.end(c)
  }

  private open(ctx: Ctx, p: TenantPrincipal, raw: string | undefined): void {
    const hub = this.hub
    const since = parseLastEventId(ctx.lastEventId)
    const targets = resolveTargets(hub, p, raw === undefined ? { kind: 'all' } : { kind: 'filter', raw }, since !== null)
    const answer = planAnswer(hub, p.accountId, targets, since ?? undefined)
    if (ctx.head) return this.head(ctx)
    const client: SseClient = {
      ctx,
      tokenHash: p.tokenHash,
      accountId: p.accountId,
      ids: targets.all ? null : new Set(targets.instances.map((t) => t.id)),
      backlog: 0,
    }
    ctx.res.onAborted(() => {
      ctx.done = true
      this.byAccount.get(p.accountId)?.delete(client)
    })
    const epoch = hub.epoch
    let first: string
    if (answer.kind === 'resumed') {
      first = event(epoch, answer.since, 'resumed', resumedFrame(undefined, epoch, answer.since))
      for (const c of answer.changes) first += event(epoch, c.seq, c.kind, c.frame)
    } else {
      first = event(epoch, answer.seq, 'snapshot', snapshotFrame(undefined, epoch, answer.seq, answer.items).toString())
    }
    ctx.res.cork(() => {
      ctx.res.writeStatus('200 OK')
      for (const [k, v] of ctx.headers) ctx.res.writeHeader(k, v)
      ctx.res.writeHeader('Content-Type', 'text/event-stream').writeHeader('Cache-Control', 'no-cache').writeHeader('X-Accel-Buffering', 'no')
      ctx.res.write(`retry: 2000\n\n${first}`)
    })
    let set = this.byAccount.get(p.accountId)
    if (set === undefined) this.byAccount.set(p.accountId, (set = new Set()))
    set.add(client)
  }

  /** HEAD: the stream's headers, no events. */
  private head(ctx: Ctx): void {
    ctx.done = true
    ctx.res.cork(() => {
      ctx.res.writeStatus('200 OK')
      for (const [k, v] of ctx.headers) ctx.res.writeHeader(k, v)
      ctx.res.writeHeader('Content-Type', 'text/event-stream').writeHeader('Cache-Control', 'no-cache').writeHeader('X-Accel-Buffering', 'no')
      ctx.res.endWithoutBody()
    })
  }

  private write(c: SseClient, text: string): void {
    if (c.ctx.done) return
    try {
      let ok = true
      c.ctx.res.cork(() => {
        ok = c.ctx.res.write(text)
      })
      // uWS keeps what it could not send; without onWritable accounting, count it as backlog.
      c.backlog = ok ? 0 : c.backlog + Buffer.byteLength(text)
      if (c.backlog > this.maxBufferBytes) this.end(c)
    } catch (err) {
      this.log.debug({ err }, 'sse write failed')
      this.end(c)
    }
  }

  private end(c: SseClient): void {
    this.byAccount.get(c.accountId)?.delete(c)
    if (c.ctx.done) return
    c.ctx.done = true
    try {
      c.ctx.res.cork(() => c.ctx.res.end())
    } catch (err) {
      sendFailure(c.ctx, err, this.log)
    }
  }
}

function parseLastEventId(raw: string): Position | null {
  const m = /^([A-Za-z0-9]{1,64}):(\d{1,15})$/.exec(raw.trim())
  return m === null ? null : { epoch: m[1]!, seq: Number(m[2]) }
}
