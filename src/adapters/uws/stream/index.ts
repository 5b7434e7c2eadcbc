/**
 * @module Mounts the streaming edges (WebSocket, RyzeAPI socket, SSE) on the hub's server.
 */
import type { Logger } from 'pino'
import type { Hub } from '../../../hub/hub.js'
import { CLOSE } from '../../../protocol/frames.js'
import type { Server } from '../app.js'
import { Fanout } from './fanout.js'
import { SocketRegistry } from './sockets.js'
import { SseHub } from './sse.js'
import { mountWs, type WsLimits } from './ws-route.js'

export interface Streams {
  fanout: Fanout
  registry: SocketRegistry
  sse: SseHub
  /** Closes every socket with 1001 (hub shutting down); clients resume elsewhere or later. */
  close(): void
}

export function mountStreams(server: Server, hub: Hub, limits: WsLimits, log: Logger): Streams {
  const registry = new SocketRegistry()
  const sse = new SseHub(hub, limits.maxBufferBytes, log)
  const fanout = new Fanout(server.app, registry, sse, limits)
  fanout.epoch = () => hub.epoch
  hub.addListener(fanout)
  mountWs(server.app, { hub, gate: server.gate, registry, fanout, log, limits })
  sse.mount(server.router)
  return {
    fanout,
    registry,
    sse,
    close() {
      fanout.close()
      sse.close()
      for (const set of registry.byToken.values()) {
        for (const ws of [...set]) if (!ws.getUserData().closed) ws.end(CLOSE.shuttingDown, 'hub shutting down')
      }
    },
  }
}
