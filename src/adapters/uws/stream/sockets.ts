/**
 * @module Per-socket state of the stream edges and the registry that finds sockets by token (for
 * revocation) and by account (for `latest` folding). uWS topics do the fan-out itself.
 */
import type { WebSocket } from 'uWebSockets.js'
import type { Principal } from '../../../hub/model.js'

/** A change held back for a `latest` subscriber under backpressure, folded per instance. */
export interface Pending {
  kind: 'diff' | 'added' | 'removed'
  seq: number
  name: string
  version: number
  at: string
  changes: Record<string, unknown>
}

export interface StreamSocket {
  kind: 'stream'
  principal: Exclude<Principal, { kind: 'admin' }>
  /** Subscribed to the whole account (`*`), including instances created later. */
  all: boolean
  /** Instance ids subscribed by name (empty when `all`). */
  ids: Set<number>
  mode: 'ordered' | 'latest'
  /** Non-null while a `latest` subscriber is unsubscribed from its topics and changes are folded. */
  folding: Map<number, Pending> | null
  /**
   * Non-null while the socket catches up (a resume larger than its buffer): frames still to send,
   * in order; live changes are appended until it is drained, then it rejoins its topics.
   */
  backlog: string[] | null
  closed: boolean
  windowStart: number
  frames: number
}

export interface RyzeSocket {
  kind: 'ryze'
  principal: Exclude<Principal, { kind: 'admin' }>
  instanceId: number
  closed: boolean
}

export type SocketData = StreamSocket | RyzeSocket
export type Ws = WebSocket<SocketData>

export const topic = {
  account: (id: number) => `a:${id}`,
  instance: (id: number) => `i:${id}`,
  ryze: (id: number) => `r:${id}`,
}

export class SocketRegistry {
  readonly byToken = new Map<string, Set<Ws>>()
  readonly streams = new Set<Ws>()
  /** Sockets detached from their topics (folding or catching up), by account. */
  readonly detached = new Map<number, Set<Ws>>()

  add(ws: Ws): void {
    const d = ws.getUserData()
    let set = this.byToken.get(d.principal.tokenHash)
    if (set === undefined) this.byToken.set(d.principal.tokenHash, (set = new Set()))
    set.add(ws)
    if (d.kind === 'stream') this.streams.add(ws)
  }

  /** Called from the close handler: the socket must not be touched afterwards. */
  remove(ws: Ws): void {
    const d = ws.getUserData()
    d.closed = true
    this.byToken.get(d.principal.tokenHash)?.delete(ws)
    if (this.byToken.get(d.principal.tokenHash)?.size === 0) this.byToken.delete(d.principal.tokenHash)
    if (d.kind === 'stream') {
      this.streams.delete(ws)
      this.attach(ws)
    }
  }

  detach(ws: Ws): void {
    const accountId = (ws.getUserData() as StreamSocket).principal.account.id
    let set = this.detached.get(accountId)
    if (set === undefined) this.detached.set(accountId, (set = new Set()))
    set.add(ws)
  }

  /** Forgets folding and backlog; the caller re-applies the topics of a live socket. */
  attach(ws: Ws): void {
    const d = ws.getUserData() as StreamSocket
    d.folding = null
    d.backlog = null
    const set = this.detached.get(d.principal.account.id)
    set?.delete(ws)
    if (set?.size === 0) this.detached.delete(d.principal.account.id)
  }
}
