/**
 * @module `GET /ws` (the account stream) and `GET /ws/:instance` (RyzeAPI's per-instance socket).
 * Authentication happens in the upgrade handler: a bad token gets HTTP 401, never a socket.
 * Every callback is guarded: a bad frame gets an error frame, never an exception out of uWS.
 */
import uWS from 'uWebSockets.js'
import type { Logger } from 'pino'
import { HubError, MSG } from '../../../core/errors.js'
import type { Hub } from '../../../hub/hub.js'
import { CLOSE, decodeClientFrame, errorFrame, pongFrame } from '../../../protocol/frames.js'
import type { Gate } from '../gate.js'
import { readCtx, routeShape, sendError, sendFailure, type Ctx, type RouteShape } from '../http.js'
import type { Principal } from '../../../hub/model.js'
import { ryzeStateFrame, type Fanout } from './fanout.js'
import { topic, type SocketData, type SocketRegistry, type StreamSocket, type Ws } from './sockets.js'
import { subscribe, unsubscribe } from './subscribe.js'

export interface WsLimits {
  idleTimeoutS: number
  maxFrameBytes: number
  maxBufferBytes: number
  maxSubscriptions: number
  maxFramesPerSec: number
  maxBacklogFrames: number
}

export function mountWs(
  app: uWS.TemplatedApp,
  deps: { hub: Hub; gate: Gate; registry: SocketRegistry; fanout: Fanout; log: Logger; limits: WsLimits },
): void {
  const { hub, gate, registry, fanout, log, limits } = deps
  const behavior = {
    compression: uWS.DISABLED,
    // uWS refuses a frame (or fragmented message) past this from its header, before buffering it,
    // and drops the connection without a close frame, so the client sees 1006; it cannot send 1009
    // there. Up to it, `message` closes frames over maxFrameBytes with 1009.
    maxPayloadLength: Math.max(limits.maxFrameBytes * 4, 64 * 1024),
    idleTimeout: limits.idleTimeoutS,
    sendPingsAutomatically: true,
    // The last resort behind the fan-out's checks, which keep a live socket under about twice the
    // bound: past it uWS drops the frame and the socket (no close frame). Without the cap a socket's
    // buffer would be unbounded; without the close uWS would skip frames silently, a gap no client
    // could see. Either way the client resumes from its last seq, so nothing is lost.
    maxBackpressure: limits.maxBufferBytes * 4,
    closeOnBackpressureLimit: 1,
  }

  /**
   * An upgrade handler that authenticates synchronously (no await, so `req` stays valid), lets
   * `accept` build the socket's state or throw a HubError, and answers refusals over HTTP.
   */
  const upgradeWith =
    (shape: RouteShape, accept: (ctx: Ctx, p: Exclude<Principal, { kind: 'admin' }>) => SocketData) =>
    (res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t) => {
      const key = req.getHeader('sec-websocket-key')
      const protocol = req.getHeader('sec-websocket-protocol')
      const extensions = req.getHeader('sec-websocket-extensions')
      const ctx = readCtx(res, req, shape)
      try {
        const p = gate.pass(ctx)
        if (p === null) return
        if (p.kind === 'admin') return sendError(ctx, 403, MSG.accountOnly)
        const data = accept(ctx, p)
        ctx.done = true
        res.upgrade<SocketData>(data, key, protocol, extensions, context)
      } catch (err) {
        sendFailure(ctx, err, log)
      }
    }

  app.ws<SocketData>('/ws', {
    ...behavior,
    upgrade: upgradeWith(routeShape('get', '/ws'), (_ctx, p): StreamSocket => ({
      kind: 'stream',
      principal: p,
      all: false,
      ids: new Set(),
      mode: 'ordered',
      folding: null,
      backlog: null,
      closed: false,
      windowStart: 0,
      frames: 0,
    })),
    open: (ws) => registry.add(ws),
    message: (ws, message) => {
      try {
        if (message.byteLength > limits.maxFrameBytes) {
          ws.end(CLOSE.tooBig, 'frame too big')
          return
        }
        onMessage(ws, Buffer.from(message).toString('utf8'))
      } catch (err) {
        log.error({ err }, 'stream frame handler failed')
        if (!ws.getUserData().closed) ws.send(errorFrame(undefined, MSG.internal))
      }
    },
    drain: (ws) => fanout.check(ws),
    close: (ws) => registry.remove(ws),
  })

  function onMessage(ws: Ws, text: string): void {
    const d = ws.getUserData() as StreamSocket
    const now = Date.now()
    if (now - d.windowStart >= 1000) {
      d.windowStart = now
      d.frames = 0
    }
    if (++d.frames > limits.maxFramesPerSec) {
      ws.end(CLOSE.rateLimited, 'rate limited')
      return
    }
    const decoded = decodeClientFrame(text)
    if (!decoded.ok) {
      ws.send(errorFrame(decoded.id, decoded.message))
      return
    }
    const f = decoded.frame
    if (f.type === 'ping') ws.send(pongFrame(f.id))
    else if (f.type === 'subscribe') subscribe(hub, ws, f, limits, fanout)
    else unsubscribe(ws, hub, f)
  }

  app.ws<SocketData>('/ws/:instance', {
    ...behavior,
    upgrade: upgradeWith(routeShape('get', '/ws/:instance'), (ctx, p) => {
      const inst = hub.resolveInstance(p, ctx.params[0]!)
      if (!inst.config.websocket.enabled) {
        throw new HubError(
          400,
          `WebSocket is not enabled for this instance. Configure it first using POST /api/events/websocket/${inst.name}`,
        )
      }
      return { kind: 'ryze', principal: p, instanceId: inst.id, closed: false }
    }),
    open: (ws) => {
      registry.add(ws)
      const d = ws.getUserData()
      if (d.kind !== 'ryze') return
      ws.subscribe(topic.ryze(d.instanceId))
      const inst = hub.getInstance(d.instanceId)
      if (inst !== undefined && inst.config.websocket.events.includes('instance.state')) ws.send(ryzeStateFrame(inst.name, inst.status))
    },
    // RyzeAPI's socket is push-only; whatever a client sends is ignored.
    message: () => {},
    close: (ws) => registry.remove(ws),
  })
}
