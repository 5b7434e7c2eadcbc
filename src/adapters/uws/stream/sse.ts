/**
 * @module Server-Sent Events: `GET /api/instance/stream` for clients that cannot speak WebSocket.
 * The same frames as the WebSocket, one event each (`id: <epoch>:<seq>`), `Last-Event-ID` resumes
 * exactly as `since` does. A client whose unsent bytes pass the bound is disconnected (it resumes).
 */
import type { Logger } from 'pino'
import { HubError, MSG } from '../../../core/errors.js'
import { normaliseFilter } from '../../../core/names.js'
import type { Hub } from '../../../hub/hub.js'
import { ryzeBytes } from '../../../hub/list-views.js'
import type { ChangeEvent, Principal } from '../../../hub/model.js'
import { resumedFrame, snapshotFrame } from '../../../protocol/frames.js'
import { sendFailure, type Ctx } from '../http.js'
import type { Router } from '../route.js'

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

export class SseHub {
  private readonly byAccount = new Map<number, Set<SseClient>>()
  private readonly heartbeat: NodeJS.Timeout

  constructor(
    private readonly hub: Hub,
    private readonly maxBufferBytes: number,
    private readonly log: Logger,
  ) {
    this.heartbeat = setInterval(() => {
      for (const set of this.byAccount.values()) for (const c of set) this.write(c, ': ping\n\n')
    }, HEARTBEAT_MS)
    this.heartbeat.unref()
  }

  mount(r: Router): void {
    r.add('get', '/api/instance/stream', { lastEventId: true }, (ctx, p) => this.open(ctx, p))
  }

  onChange(e: ChangeEvent): void {
    const set = this.byAccount.get(e.account.id)
    if (set === undefined) return
    const event = `id: ${this.hub.epoch}:${e.seq}\nevent: ${e.kind}\ndata: ${e.frame}\n\n`
    for (const c of set) {
      if (c.ids === null ? true : c.ids.has(e.instance.id) && e.kind !== 'added') this.write(c, event)
    }
  }

  revoke(tokenHash: string): void {
    for (const set of this.byAccount.values()) for (const c of set) if (c.tokenHash === tokenHash) this.end(c)
  }

  close(): void {
    clearInterval(this.heartbeat)
    for (const set of this.byAccount.values()) for (const c of [...set]) this.end(c)
  }

  private open(ctx: Ctx, p: Principal): void {
    if (p.kind === 'admin') throw new HubError(403, MSG.accountOnly)
    const account = p.account
    let targets = p.kind === 'instance' ? [p.instance] : null
    if (p.kind === 'account') {
      const filter = normaliseFilter(ctx.query.get('instanceName') ?? undefined)
      if (filter !== null) {
        targets = []
        for (const name of filter) {
          const inst = account.byName.get(name)
          if (inst !== undefined) targets.push(inst)
        }
        if (filter.length === 1 && targets.length === 0) throw new HubError(404, MSG.instanceNotFound)
      }
    }
    const client: SseClient = {
      ctx,
      tokenHash: p.tokenHash,
      accountId: account.id,
      ids: targets === null ? null : new Set(targets.map((t) => t.id)),
      backlog: 0,
    }
    ctx.res.onAborted(() => {
      ctx.done = true
      this.byAccount.get(account.id)?.delete(client)
    })
    const items = targets ?? this.hub.instancesOf(account)
    const resume = parseLastEventId(ctx.lastEventId)
    const replay = resume !== null && resume.epoch === this.hub.epoch ? this.hub.changesSince(account, resume.seq) : null
    let first: string
    if (replay !== null) {
      first = `id: ${this.hub.epoch}:${resume!.seq}\nevent: resumed\ndata: ${resumedFrame(undefined, this.hub.epoch, resume!.seq)}\n\n`
      for (const c of replay) {
        if (client.ids === null || client.ids.has(c.instanceId)) {
          const kind = (JSON.parse(c.frame) as { type: string }).type
          if (client.ids !== null && kind === 'added') continue
          first += `id: ${this.hub.epoch}:${c.seq}\nevent: ${kind}\ndata: ${c.frame}\n\n`
        }
      }
    } else {
      const snap = snapshotFrame(undefined, this.hub.epoch, account.seq, items.map(ryzeBytes)).toString()
      first = `id: ${this.hub.epoch}:${account.seq}\nevent: snapshot\ndata: ${snap}\n\n`
    }
    ctx.res.cork(() => {
      ctx.res.writeStatus('200 OK')
      for (const [k, v] of ctx.headers) ctx.res.writeHeader(k, v)
      ctx.res.writeHeader('Content-Type', 'text/event-stream').writeHeader('Cache-Control', 'no-cache').writeHeader('X-Accel-Buffering', 'no')
      ctx.res.write(`retry: 2000\n\n${first}`)
    })
    let set = this.byAccount.get(account.id)
    if (set === undefined) this.byAccount.set(account.id, (set = new Set()))
    set.add(client)
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

function parseLastEventId(raw: string): { epoch: string; seq: number } | null {
  const m = /^([A-Za-z0-9]{1,64}):(\d{1,15})$/.exec(raw.trim())
  return m === null ? null : { epoch: m[1]!, seq: Number(m[2]) }
}
