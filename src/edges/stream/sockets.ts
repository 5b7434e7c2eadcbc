/**
 * @module Per-socket state of the stream edges, and the registry that finds sockets by token (for
 * revocation) and by account (for buffer checks and for sockets detached from their topics). uWS
 * topics do the fan-out itself.
 */
import type { WebSocket } from 'uWebSockets.js'
import type { TenantPrincipal } from '../../hub/model.js'
import type { SubscribeFrame } from '../../protocol/frames.js'
import type { Folder } from '../../stream/fold.js'
import type { Sending } from './fanout.js'

/** A frame as uWS sends it: change frames are strings, snapshots are assembled Buffers. */
export type Frame = string | Buffer

export interface StreamSocket {
  kind: 'stream'
  principal: TenantPrincipal
  /** Subscribed to the whole account (`*`), including instances created later. */
  all: boolean
  /** Instance ids subscribed by name (empty when `all`). */
  ids: Set<number>
  mode: 'ordered' | 'latest'
  /** Non-null while a subscribe's answer and its catch-up are sent (the socket is off its topics). */
  sending: Sending | null
  /**
   * Non-null while a detached `latest` subscriber has changes folded per instance; they go out
   * sorted by seq when it drains. A socket with neither is live on its topics.
   */
  folding: Folder | null
  /** The subscribe whose answer is being sent (meaningful while `sending` is non-null). */
  answering: SubscribeFrame | null
  /** Subscribes that arrived while an answer was being sent, answered in turn (bounded). */
  requests: SubscribeFrame[]
  /** Control frames waiting for an open fragmented snapshot to end. */
  control: string[]
  /**
   * Control frames (pong, error, unsubscribed) given to this socket since uWS last held none of its
   * bytes; past a bound the socket is closed with 4008.
   */
  unreadControl: number
  closed: boolean
  windowStart: number
  frames: number
}

export interface RyzeSocket {
  kind: 'ryze'
  principal: TenantPrincipal
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
  /** Stream sockets by account. */
  private readonly streamsByAccount = new Map<number, Set<Ws>>()
  /** Sockets detached from their topics (folding or catching up), by account. */
  readonly detached = new Map<number, Set<Ws>>()
  /** Open `/ws/:instance` sockets. */
  ryze = 0

  add(ws: Ws): void {
    const d = ws.getUserData()
    let set = this.byToken.get(d.principal.tokenHash)
    if (set === undefined) this.byToken.set(d.principal.tokenHash, (set = new Set()))
    set.add(ws)
    if (d.kind !== 'stream') {
      this.ryze++
      return
    }
    this.streams.add(ws)
    let mine = this.streamsByAccount.get(d.principal.accountId)
    if (mine === undefined) this.streamsByAccount.set(d.principal.accountId, (mine = new Set()))
    mine.add(ws)
  }

  streamsOf(accountId: number): ReadonlySet<Ws> {
    return this.streamsByAccount.get(accountId) ?? EMPTY
  }

  /** Called from the close handler: the socket must not be touched afterwards. */
  remove(ws: Ws): void {
    const d = ws.getUserData()
    d.closed = true
    this.byToken.get(d.principal.tokenHash)?.delete(ws)
    if (this.byToken.get(d.principal.tokenHash)?.size === 0) this.byToken.delete(d.principal.tokenHash)
    if (d.kind === 'stream') {
      this.streams.delete(ws)
      const mine = this.streamsByAccount.get(d.principal.accountId)
      mine?.delete(ws)
      if (mine?.size === 0) this.streamsByAccount.delete(d.principal.accountId)
      this.attach(ws)
    } else {
      this.ryze--
    }
  }

  detach(ws: Ws): void {
    const accountId = ws.getUserData().principal.accountId
    let set = this.detached.get(accountId)
    if (set === undefined) this.detached.set(accountId, (set = new Set()))
    set.add(ws)
  }

  /** Forgets folding; the caller re-applies the topics of a live socket. */
  attach(ws: Ws): void {
    const d = ws.getUserData() as StreamSocket
    d.folding = null
    const set = this.detached.get(d.principal.accountId)
    set?.delete(ws)
    if (set?.size === 0) this.detached.delete(d.principal.accountId)
  }

  /** Every open socket, for the shutdown's 1001. */
  *all(): Iterable<Ws> {
    for (const set of this.byToken.values()) yield* [...set]
  }
}

const EMPTY: ReadonlySet<Ws> = new Set()
