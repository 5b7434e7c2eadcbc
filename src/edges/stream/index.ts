/**
 * @module The stream edge: the account WebSocket (`/ws`), RyzeAPI's socket (`/ws/:instance`) and
 * SSE, mounted on the HTTP server and subscribed to the change bus.
 */
import type { Logger } from 'pino'
import type { ChangeBus } from '../../ports/bus.js'
import type { Clock } from '../../ports/clock.js'
import type { Edge } from '../../ports/edge.js'
import { CLOSE } from '../../protocol/close-codes.js'
import { AccountBudget } from '../../stream/budget.js'
import type { StreamSource } from '../../stream/plan.js'
import type { HttpServer } from '../http/server.js'
import { streamSeries, type Transport } from '../metrics/stream-series.js'
import { StreamCounts } from './counts.js'
import { Fanout } from './fanout.js'
import { RyzeSockets } from './ryze.js'
import { SocketRegistry } from './sockets.js'
import { SseStreams } from './sse.js'
import { mountWs, type WsLimits } from './ws-route.js'

export interface StreamEdge extends Edge {
  readonly fanout: Fanout
  readonly registry: SocketRegistry
  readonly sse: SseStreams
  readonly counts: StreamCounts
}

export interface StreamLimits extends WsLimits {
  wsMaxPendingBytes: number
  wsMaxPendingTotalBytes: number
  accountSnapshotBytesPerSec: number
  accountDeepResumesPerSec: number
}

export function streamEdge(server: HttpServer, hub: StreamSource, bus: ChangeBus, limits: StreamLimits, clock: Clock, log: Logger): StreamEdge {
  const registry = new SocketRegistry()
  const counts = new StreamCounts()
  const fanout = new Fanout(
    server.app,
    registry,
    hub,
    {
      maxBufferBytes: limits.wsMaxBufferBytes,
      maxPendingBytes: limits.wsMaxPendingBytes,
      maxPendingTotalBytes: limits.wsMaxPendingTotalBytes,
    },
    counts,
  )
  const budgets = { snapshots: new AccountBudget(limits.accountSnapshotBytesPerSec, clock), deepResumes: new AccountBudget(limits.accountDeepResumesPerSec, clock) }
  const ryze = new RyzeSockets(server.app, counts)
  const sse = new SseStreams(hub, limits, budgets, log, counts)
  const router = server.router
  mountWs(server.app, { hub, gate: server.gate, shape: router.shape('get', '/ws'), registry, fanout, log, limits, budgets, counts })
  ryze.mount({ hub, gate: server.gate, shape: router.shape('get', '/ws/:instance'), registry, log, limits })
  sse.mount(router)
  const unsubscribe = [bus.subscribe(fanout), bus.subscribe(ryze), bus.subscribe(sse)]
  return {
    name: 'stream',
    fanout,
    registry,
    sse,
    counts,
    metrics(r, opts) {
      const view = {
        counts,
        subscribers: (): Record<Transport, number> => ({ ws: registry.streams.size, ws_instance: registry.ryze, sse: sse.clients }),
        subscribersByAccount: () => {
          const out = new Map<number, Record<Transport, number>>()
          const of = (id: number) => {
            let n = out.get(id)
            if (n === undefined) out.set(id, (n = { ws: 0, ws_instance: 0, sse: 0 }))
            return n
          }
          for (const ws of registry.all()) {
            const d = ws.getUserData()
            if (!d.closed) of(d.principal.accountId)[d.kind === 'stream' ? 'ws' : 'ws_instance']++
          }
          for (const [id, n] of sse.clientsByAccount()) of(id).sse += n
          return out
        },
      }
      streamSeries(r, view, opts.accountName)
    },
    stop() {
      for (const u of unsubscribe) u()
      fanout.close()
      sse.close()
      // Clients resume elsewhere or later.
      for (const ws of registry.all()) if (!ws.getUserData().closed) ws.end(CLOSE.shuttingDown, 'hub shutting down')
    },
  }
}
