/**
 * @module `GET /ws`, the account stream: the upgrade (authenticated there: a bad token gets HTTP
 * 401, never a socket), and the client's frames (subscribe, unsubscribe, ping) encoded over the
 * transport-free plans of stream/plan.ts. Every callback is guarded: a bad frame gets an error
 * frame, never an exception out of uWS.
 */
import uWS from 'uWebSockets.js'
import type { Logger } from 'pino'
import { HubError, MSG } from '../../core/errors.js'
import { CLOSE } from '../../protocol/close-codes.js'
import { decodeClientFrame, errorFrame, pongFrame, resumedFrame, snapshotParts, type SubscribeFrame, type UnsubscribeFrame } from '../../protocol/frames.js'
import type { AccountBudget } from '../../stream/budget.js'
import { catchupFrom } from '../../stream/catchup.js'
import { planAnswer, resolveTargets, type Answer, type StreamSource } from '../../stream/plan.js'
import { ORIGIN_REFUSED } from '../http/cors.js'
import type { Gate } from '../http/gate.js'
import { readCtx, sendError, sendFailure, type Ctx, type RouteShape } from '../http/http.js'
import type { TenantPrincipal } from '../../hub/model.js'
import type { StreamCounts } from './counts.js'
import type { Fanout } from './fanout.js'
import type { Frame, SocketData, SocketRegistry, StreamSocket, Ws } from './sockets.js'
import { applyTopics } from './topics.js'

/** The stream settings (named as in the hub's configuration). */
export interface WsLimits {
  wsIdleTimeoutS: number
  wsMaxFrameBytes: number
  /** Outgoing bytes a socket may hold (see the fan-out). */
  wsMaxBufferBytes: number
  wsMaxSubscriptions: number
  wsMaxFramesPerSec: number
  streamMaxReplay: number
}

/** Per-account budgets a subscribe's answer spends. */
export interface StreamBudgets {
  /** Bytes of snapshots. */
  snapshots: AccountBudget
  /** Replays that read the change log (older than the ring). */
  deepResumes: AccountBudget
}

/** Charges an answer to its account; false when the account's budget for this second is spent. */
export function spend(budgets: StreamBudgets, accountId: number, answer: Answer): boolean {
  if (answer.kind === 'snapshot') return budgets.snapshots.take(accountId, answer.items.reduce((n, b) => n + b.length, 64))
  return !answer.deep || budgets.deepResumes.take(accountId)
}

/**
 * Subscribes that may wait while an answer is sent; past it they are refused with an error frame,
 * a small answer the fan-out counts against the socket's unread bytes (4008 for one not reading).
 */
export const MAX_QUEUED_SUBSCRIBES = 8

/**
 * The same frame (id, instances, since, mode): one answer, addressed by that id, serves both, so a
 * repeat of a subscribe still waiting, or whose answer has not been sent whole, is not queued again.
 */
export function sameSubscribe(a: SubscribeFrame, b: SubscribeFrame): boolean {
  const key = (f: SubscribeFrame) => JSON.stringify([f.id ?? null, f.instances, f.since?.epoch ?? null, f.since?.seq ?? null, f.mode ?? null])
  return key(a) === key(b)
}

/** What both WebSocket routes share: the socket behaviour and an authenticating upgrade. */
export function socketBehavior(limits: WsLimits) {
  return {
    compression: uWS.DISABLED,
    // uWS refuses a frame (or fragmented message) past this from its header, before buffering it,
    // and drops the connection without a close frame, so the client sees 1006; it cannot send 1009
    // there. Up to it, `message` closes frames over maxFrameBytes with 1009.
    maxPayloadLength: Math.max(limits.wsMaxFrameBytes * 4, 64 * 1024),
    idleTimeout: limits.wsIdleTimeoutS,
    sendPingsAutomatically: true,
    // The last resort behind the fan-out's checks, which keep a live socket under about twice the
    // bound: past it uWS drops the frame and the socket (no close frame). Without the cap a socket's
    // buffer would be unbounded; without the close uWS would skip frames silently, a gap no client
    // could see. Either way the client resumes from its last seq, so nothing is lost.
    maxBackpressure: limits.wsMaxBufferBytes * 4,
    closeOnBackpressureLimit: 1,
  }
}

/**
 * An upgrade handler that authenticates synchronously (no await, so `req` stays valid), lets
 * `accept` build the socket's state or throw a HubError, and answers refusals over HTTP. A browser
 * page of another origin (an `Origin` neither on HUB_CORS_ORIGINS nor the hub's own) gets 403
 * before its token is even looked at: a foreign page must not ride on a token it got hold of.
 */
export function upgradeWith(gate: Gate, log: Logger, shape: RouteShape, accept: (ctx: Ctx, p: TenantPrincipal) => SocketData) {
  return (res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t) => {
    const key = req.getHeader('sec-websocket-key')
    const protocol = req.getHeader('sec-websocket-protocol')
    const extensions = req.getHeader('sec-websocket-extensions')
    const ctx = readCtx(res, req, shape)
    const origin = req.getHeader('origin')
    if (origin !== '' && !gate.cors.upgradeAllowed(origin, req.getHeader('host'))) return sendError(ctx, 403, ORIGIN_REFUSED)
    try {
      const p = gate.pass(ctx)
      if (p === null) return
      if (p.kind === 'admin') return sendError(ctx, 403, MSG.accountOnly)
      const data = accept(ctx, p)
      ctx.done = true
      ctx.counts?.add(101)
      res.upgrade<SocketData>(data, key, protocol, extensions, context)
    } catch (err) {
      sendFailure(ctx, err, log)
    }
  }
}

export function mountWs(
  app: uWS.TemplatedApp,
  deps: { hub: StreamSource; gate: Gate; shape: RouteShape; registry: SocketRegistry; fanout: Fanout; log: Logger; limits: WsLimits; budgets: StreamBudgets; counts: StreamCounts },
): void {
  const { hub, gate, registry, fanout, log, limits, budgets, counts } = deps
  fanout.onIdle = (ws) => next(ws)

  app.ws<SocketData>('/ws', {
    ...socketBehavior(limits),
    upgrade: upgradeWith(gate, log, deps.shape, (_ctx, p): StreamSocket => ({
      kind: 'stream',
      principal: p,
      all: false,
      ids: new Set(),
      mode: 'ordered',
      sending: null,
      folding: null,
      answering: null,
      requests: [],
      control: [],
      unreadControl: 0,
      closed: false,
      windowStart: 0,
      frames: 0,
    })),
    open: (ws) => registry.add(ws),
    message: (ws, message) => {
      try {
        if (message.byteLength > limits.wsMaxFrameBytes) {
          ws.end(CLOSE.tooBig, 'frame too big')
          return
        }
        onMessage(ws, Buffer.from(message).toString('utf8'))
      } catch (err) {
        log.error({ err }, 'stream frame handler failed')
        fanout.control(ws, errorFrame(undefined, MSG.internal))
      }
    },
    drain: (ws) => fanout.check(ws),
    close: (ws) => {
      fanout.closed(ws)
      registry.remove(ws)
    },
  })

  function onMessage(ws: Ws, text: string): void {
    const d = ws.getUserData() as StreamSocket
    if (d.closed) return
    const now = Date.now()
    if (now - d.windowStart >= 1000) {
      d.windowStart = now
      d.frames = 0
    }
    if (++d.frames > limits.wsMaxFramesPerSec) {
      ws.end(CLOSE.rateLimited, 'rate limited')
      return
    }
    const decoded = decodeClientFrame(text)
    if (!decoded.ok) {
      fanout.control(ws, errorFrame(decoded.id, decoded.message))
      return
    }
    const f = decoded.frame
    try {
      if (f.type === 'ping') fanout.control(ws, pongFrame(f.id))
      else if (f.type === 'unsubscribe') unsubscribe(ws, d, f)
      else if (!fanout.busy(ws)) subscribe(ws, d, f)
      else if (repeated(ws, d, f)) return
      // One answer at a time: the next is planned when this one is sent, never queued as bytes.
      else if (d.requests.length < MAX_QUEUED_SUBSCRIBES) d.requests.push(f)
      else throw new HubError('invalid', `Too many subscribes waiting for their answers (limit ${MAX_QUEUED_SUBSCRIBES}); wait for the answers first`)
    } catch (err) {
      if (!(err instanceof HubError)) throw err
      fanout.control(ws, errorFrame(f.id, err.message))
    }
  }

  /** Whether the same subscribe is already waiting, or its answer is still on its way out. */
  function repeated(ws: Ws, d: StreamSocket, f: SubscribeFrame): boolean {
    if (d.answering !== null && fanout.unsent(ws) && sameSubscribe(d.answering, f)) return true
    return d.requests.some((r) => sameSubscribe(r, f))
  }

  /** Answers the subscribes that waited for the previous answer, in order. */
  function next(ws: Ws): void {
    const d = ws.getUserData() as StreamSocket
    while (!d.closed && !fanout.busy(ws) && d.requests.length > 0) {
      const f = d.requests.shift()!
      try {
        subscribe(ws, d, f)
      } catch (err) {
        if (!(err instanceof HubError)) throw err
        fanout.control(ws, errorFrame(f.id, err.message))
      }
    }
  }

  function subscribe(ws: Ws, d: StreamSocket, f: SubscribeFrame): void {
    const accountId = d.principal.accountId
    const targets = resolveTargets(hub, d.principal, f.instances === '*' ? { kind: 'all' } : { kind: 'names', names: f.instances }, f.since !== undefined)
    if (!targets.all && !d.all) {
      const next = new Set([...d.ids, ...targets.instances.map((t) => t.id)])
      if (next.size > limits.wsMaxSubscriptions) {
        throw new HubError('invalid', `Too many subscriptions (limit ${limits.wsMaxSubscriptions} instances per socket)`)
      }
    }
    const answer = planAnswer(hub, accountId, targets, f.since, limits.streamMaxReplay)
    if (!spend(budgets, accountId, answer)) {
      ws.end(CLOSE.rateLimited, answer.kind === 'snapshot' ? 'too many snapshots for this account: retry later' : 'too many deep resumes for this account: retry later')
      return
    }
    if (f.since !== undefined) counts.resumed(answer.kind)
    if (f.mode !== undefined) d.mode = f.mode
    if (targets.all) {
      d.all = true
      d.ids.clear()
    } else if (!d.all) {
      for (const t of targets.instances) d.ids.add(t.id)
    }
    const from = catchupFrom(hub, accountId, targets, answer)
    d.answering = f
    if (answer.kind === 'resumed') {
      fanout.answer(ws, { head: [resumedFrame(f.id, hub.epoch, answer.since)], parts: null, ...from })
      return
    }
    const parts = snapshotParts(f.id, hub.epoch, answer.seq, answer.items)
    const size = parts.reduce((n, p) => n + p.length, 0)
    // A snapshot that fits the buffer goes as one frame; a larger one as fragments paced by backpressure.
    const whole = size <= limits.wsMaxBufferBytes
    fanout.answer(ws, { head: whole ? [Buffer.concat(parts, size)] : [], parts: whole ? null : parts, ...from })
  }

  function unsubscribe(ws: Ws, d: StreamSocket, f: UnsubscribeFrame): void {
    if (f.instances === '*') {
      d.all = false
      d.ids.clear()
    } else {
      if (d.all) throw new HubError('invalid', 'Cannot unsubscribe single instances from a "*" subscription; unsubscribe "*" instead')
      for (const t of resolveTargets(hub, d.principal, { kind: 'names', names: f.instances }, false).instances) d.ids.delete(t.id)
    }
    if (d.folding === null && d.sending === null) applyTopics(ws)
    else d.folding?.retain((id) => d.all || d.ids.has(id))
    fanout.control(ws, JSON.stringify({ type: 'unsubscribed', id: f.id }))
  }
}
