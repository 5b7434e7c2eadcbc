/**
 * @module `GET /ws/:instance`, RyzeAPI's per-instance socket: the current state as one
 * `instance.state` event right after the upgrade, then one per connection, presence or profile
 * change, while the instance's websocket integration is enabled for `instance.state`. Push-only:
 * whatever a client sends is ignored. Its sockets live in the shared registry, so revocation ends
 * them with the account stream's (the fan-out owns that).
 */
import type { TemplatedApp } from 'uWebSockets.js'
import type { Logger } from 'pino'
import { HubError } from '../../core/errors.js'
import type { WebsocketConfig } from '../../core/integrations.js'
import type { BusSubscriber, ChangeRecord } from '../../ports/bus.js'
import { isStateChange, stateEvent } from '../../protocol/instance-state.js'
import type { StreamSource } from '../../stream/plan.js'
import type { Gate } from '../http/gate.js'
import type { RouteShape } from '../http/http.js'
import type { StreamCounts } from './counts.js'
import { topic, type RyzeSocket, type SocketData, type SocketRegistry } from './sockets.js'
import { socketBehavior, upgradeWith, type WsLimits } from './ws-route.js'

type WebsocketSummary = Pick<WebsocketConfig, 'enabled' | 'events'>

const wantsState = (w: WebsocketSummary) => w.enabled && w.events.includes('instance.state')

export class RyzeSockets implements BusSubscriber {
  /**
   * The websocket block of each instance with an open socket, kept current from the changes'
   * `websocket.*` paths, so sending never reads the hub back.
   */
  private readonly websocket = new Map<number, { config: WebsocketSummary; sockets: number }>()

  constructor(
    private readonly app: TemplatedApp,
    private readonly counts: StreamCounts,
  ) {}

  mount(deps: { hub: StreamSource; gate: Gate; shape: RouteShape; registry: SocketRegistry; log: Logger; limits: WsLimits }): void {
    const { hub, gate, registry, log, limits } = deps
    this.app.ws<SocketData>('/ws/:instance', {
      ...socketBehavior(limits),
      upgrade: upgradeWith(gate, log, deps.shape, (ctx, p): RyzeSocket => {
        const inst = hub.resolveInstance(p, ctx.params[0]!)
        if (!inst.config.websocket.enabled) {
          throw new HubError('invalid', `WebSocket is not enabled for this instance. Configure it first using POST /api/events/websocket/${inst.name}`)
        }
        return { kind: 'ryze', principal: p, instanceId: inst.id, closed: false }
      }),
      open: (ws) => {
        registry.add(ws)
        const d = ws.getUserData() as RyzeSocket
        const inst = hub.instance(d.instanceId)
        if (inst === undefined) return
        const entry = this.websocket.get(inst.id) ?? { config: inst.config.websocket, sockets: 0 }
        entry.sockets++
        this.websocket.set(inst.id, entry)
        ws.subscribe(topic.ryze(inst.id))
        if (wantsState(entry.config)) {
          ws.send(JSON.stringify(stateEvent({ ...inst, instance: inst.name, time: inst.updatedAt, event: inst.status.event, connection: inst.item.connection })))
          this.counts.frames++
        }
      },
      message: () => {},
      close: (ws) => {
        const d = ws.getUserData() as RyzeSocket
        registry.remove(ws)
        const entry = this.websocket.get(d.instanceId)
        if (entry !== undefined && --entry.sockets <= 0) this.websocket.delete(d.instanceId)
      },
    })
  }

  onChange(r: ChangeRecord): void {
    const entry = this.websocket.get(r.instanceId)
    if (entry === undefined || r.changes === null) return
    const enabled = r.changes['websocket.enabled']
    const events = r.changes['websocket.events']
    if (enabled !== undefined || events !== undefined) {
      entry.config = { enabled: (enabled as boolean | undefined) ?? entry.config.enabled, events: (events as string[] | undefined) ?? entry.config.events }
    }
    if (wantsState(entry.config) && isStateChange(r.kind, r.changes)) {
      const t = topic.ryze(r.instanceId)
      this.counts.frames += this.app.numSubscribers(t)
      this.app.publish(t, JSON.stringify(stateEvent(r)))
    }
  }

  onRevoke(): void {}
}
