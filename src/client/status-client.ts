/**
 * @module StatusClient: one WebSocket to the hub's /ws, a subscription, a local mirror of the
 * subscribed instances, and reconnect with jittered backoff that resumes from the last position.
 * Runs in browsers and in Node (pass `ws`'s WebSocket on Node 20, which has no global one).
 */
import { DEFAULT_BACKOFF, rateLimitedDelay, retryDelay, type BackoffPolicy } from './backoff.js'
import { CLOSE, closeAction } from './close-codes.js'
import { Batcher, Emitter, type ChangeBatch, type ClientEvent, type ClientEventType, type ClientState } from './events.js'
import { parseFrame, type InstanceItem, type Position, type SubscribeFrame } from './frames.js'
import { Mirror, type Applied } from './mirror.js'

/**
 * The part of the WebSocket API the client uses. The browser's WebSocket and `ws`'s both fit.
 * Handler parameters are `any` so that either platform's event types are accepted.
 */
export interface SocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((ev: any) => void) | null
  onmessage: ((ev: any) => void) | null
  onclose: ((ev: any) => void) | null
  onerror: ((ev: any) => void) | null
}
export type SocketConstructor = new (url: string) => SocketLike

export interface StatusClientOptions {
  /** The hub's stream endpoint, `ws://host:port/ws` or `wss://…`. */
  url: string
  /** Sent as `?token=`, since browsers cannot set upgrade headers. */
  token: string
  /**
   * `'*'` (default) follows every instance of the account, including ones created later. A named
   * instance the hub reports removed is dropped from the names the client subscribes to again.
   */
  instances?: '*' | readonly string[]
  /** `ordered` (default): every change. `latest`: under backpressure, changes may be folded per instance. */
  mode?: 'ordered' | 'latest'
  /** Defaults to the global WebSocket; required on Node 20. */
  WebSocket?: SocketConstructor
  backoff?: Partial<BackoffPolicy>
  /** An open that lasts this long resets the backoff to its first step. Default 5000. */
  stableMs?: number
  /** Silence after which the client pings; a second silent period ends the socket. 0 disables. Default 15000. */
  heartbeatMs?: number
  /** Source of jitter in [0, 1); tests inject it. */
  random?: () => number
  /** Runs a batch flush later; default queueMicrotask. Browsers may pass requestAnimationFrame. */
  schedule?: (flush: () => void) => void
  onEvent?: (e: ClientEvent) => void
  onChange?: (batch: ChangeBatch) => void
}

const NOOP = () => {}
const UPGRADE_STATUS = /Unexpected server response: (\d{3})/

export class StatusClient {
  private readonly m = new Mirror()
  private readonly Ctor: SocketConstructor
  private readonly policy: BackoffPolicy
  private readonly events: Emitter
  private readonly batches: Batcher
  private socket: SocketLike | null = null
  private current: ClientState = 'closed'
  private running = false
  private attempt = 0
  private subscribeCount = 0
  private pendingSubscribe: string | null = null
  /** What the next subscribe names: the option's names less those removed since. */
  private names: '*' | string[]
  private upgradeStatus: number | null = null
  private lastFrameAt = 0
  private pingOut = false
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private stableTimer: ReturnType<typeof setTimeout> | null = null
  private heartbeat: ReturnType<typeof setInterval> | null = null
  /** Whether the last subscription reply resumed (true) or replaced the mirror (false); null before any. */
  lastRecovered: boolean | null = null

  constructor(private readonly opts: StatusClientOptions) {
    const url = new URL(opts.url)
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TypeError(`StatusClient url must be ws:// or wss://, got ${opts.url}`)
    const Ctor = opts.WebSocket ?? (globalThis as { WebSocket?: SocketConstructor }).WebSocket
    if (Ctor === undefined) throw new TypeError('No global WebSocket: pass one as options.WebSocket (on Node 20: `import { WebSocket } from "ws"`)')
    this.Ctor = Ctor
    this.names = opts.instances === undefined || opts.instances === '*' ? '*' : [...opts.instances]
    this.policy = { ...DEFAULT_BACKOFF, ...opts.backoff }
    this.events = new Emitter(opts.onEvent)
    this.batches = new Batcher(opts.schedule ?? queueMicrotask)
    if (opts.onChange) this.batches.onChange(opts.onChange)
  }

  /** The subscribed instances by name. Items are replaced, never mutated, so identity marks a change. */
  get mirror(): ReadonlyMap<string, InstanceItem> {
    return this.m.items
  }

  /** Position of the last applied frame; null before the first snapshot. */
  get position(): Position | null {
    return this.m.position
  }

  get state(): ClientState {
    return this.current
  }

  /** Connects and subscribes; resumes from the current position when there is one. */
  start(): void {
    if (this.running) return
    this.running = true
    this.attempt = 0
    this.setState('connecting', { reason: 'start' })
    this.connect()
  }

  /** Closes the socket and cancels retries. The mirror and position stay; start() resumes from them. */
  stop(): void {
    if (!this.running) return
    this.finish(null, 'stopped')
  }

  on<T extends ClientEventType>(type: T, fn: (e: Extract<ClientEvent, { type: T }>) => void): () => void {
    return this.events.on(type, fn)
  }

  /** Called at most once per `schedule` tick with every name that changed since the last call. */
  onChange(fn: (batch: ChangeBatch) => void): () => void {
    return this.batches.onChange(fn)
  }

  // ---- socket lifecycle -----------------------------------------------------------------------

  private connect(): void {
    this.upgradeStatus = null
    let ws: SocketLike
    try {
      ws = new this.Ctor(withToken(this.opts.url, this.opts.token))
    } catch (err) {
      // A browser may refuse synchronously (a CSP or mixed-content block); report it and retry like a loss.
      this.emit({ type: 'error', message: `cannot open the socket: ${err instanceof Error ? err.message : String(err)}`, id: null })
      return this.lost(CLOSE.abnormal, 'cannot open the socket')
    }
    this.socket = ws
    ws.onopen = () => {
      if (this.socket === ws) this.opened(ws)
    }
    ws.onmessage = (ev: { data: unknown }) => {
      if (this.socket === ws) this.receive(ev.data)
    }
    ws.onerror = (ev: { message?: unknown }) => {
      // Only Node's `ws` says why an upgrade was refused; browsers give no detail.
      const m = this.socket === ws ? UPGRADE_STATUS.exec(String(ev?.message ?? '')) : null
      if (m !== null) this.upgradeStatus = Number(m[1])
    }
    ws.onclose = (ev: { code?: number; reason?: string }) => {
      if (this.socket === ws) this.lost(ev.code ?? CLOSE.abnormal, ev.reason ?? '')
    }
  }

  private opened(ws: SocketLike): void {
    // The hub refuses an empty list, and there is nothing left to follow.
    if (this.names !== '*' && this.names.length === 0) return this.finish(null, 'every subscribed instance was removed')
    const id = String(++this.subscribeCount)
    const frame: SubscribeFrame = {
      type: 'subscribe',
      id,
      instances: this.names === '*' ? '*' : [...this.names],
      mode: this.opts.mode ?? 'ordered',
    }
    const since = this.m.position
    if (since !== null) frame.since = { epoch: since.epoch, seq: since.seq }
    this.m.expectReply(id)
    this.pendingSubscribe = id
    ws.send(JSON.stringify(frame))
    this.startHeartbeat(ws)
  }

  private startHeartbeat(ws: SocketLike): void {
    const every = this.opts.heartbeatMs ?? 15_000
    this.lastFrameAt = Date.now()
    this.pingOut = false
    if (every <= 0) return
    this.heartbeat = setInterval(() => {
      if (this.socket !== ws || Date.now() - this.lastFrameAt < every) return
      // A half-open TCP connection (sleep, network change) never fires close by itself.
      if (this.pingOut) return this.lost(CLOSE.abnormal, 'heartbeat timeout')
      this.pingOut = true
      ws.send(JSON.stringify({ type: 'ping', id: `hb${this.subscribeCount}` }))
    }, every)
  }

  private receive(data: unknown): void {
    this.lastFrameAt = Date.now()
    this.pingOut = false
    const frame = parseFrame(data)
    if (frame === undefined) return
    if (frame === null) return this.emit({ type: 'error', message: 'unreadable frame from the hub', id: null })
    if (frame.type === 'pong') return
    if (frame.type === 'error') {
      const id = frame.id ?? null
      this.emit({ type: 'error', message: frame.message, id })
      // A refused subscription stays refused on every retry; the application must change something.
      if (id !== null && id === this.pendingSubscribe) this.finish(null, `subscription refused: ${frame.message}`)
      return
    }
    for (const a of this.m.apply(frame)) {
      if (a.kind === 'resync') {
        this.m.forgetPosition()
        return this.lost(CLOSE.abnormal, `resync: ${a.reason}`)
      }
      this.dispatch(a)
    }
  }

  private dispatch(a: Exclude<Applied, { kind: 'resync' }>): void {
    switch (a.kind) {
      case 'snapshot':
        // A resume the hub could not serve leaves out names deleted meanwhile; a fresh subscribe
        // naming them would be refused.
        this.keepNames((n) => [...this.m.items.values()].some((item) => named(item, n)))
        this.lastRecovered = false
        this.touch('reset', '')
        this.synced()
        this.emit({ type: 'snapshot', recovered: false, position: a.position, instances: this.m.items })
        return
      case 'resumed':
        this.lastRecovered = true
        this.synced()
        this.emit({ type: 'resumed', recovered: true, position: a.position })
        return
      case 'diff':
        this.touch('upsert', a.name)
        this.emit({ type: 'diff', seq: a.seq, name: a.name, item: a.item, previous: a.previous, changes: a.changes, at: a.at })
        return
      case 'added':
        this.touch('upsert', a.name)
        this.emit({ type: 'added', seq: a.seq, name: a.name, item: a.item })
        return
      case 'removed':
        this.keepNames((n) => !named(a.previous, n))
        this.touch('remove', a.name)
        this.emit({ type: 'removed', seq: a.seq, name: a.name, previous: a.previous })
        return
      case 'skipped':
        return
    }
  }

  private keepNames(keep: (name: string) => boolean): void {
    if (this.names !== '*') this.names = this.names.filter(keep)
  }

  private synced(): void {
    this.pendingSubscribe = null
    this.clearTimer('stableTimer')
    this.stableTimer = setTimeout(() => {
      this.stableTimer = null
      this.attempt = 0
    }, this.opts.stableMs ?? 5000)
    this.setState('open', { reason: this.lastRecovered ? 'resumed' : 'snapshot' })
  }

  /** The socket ended (or must end); decide between a terminal stop and a scheduled retry. */
  private lost(code: number, reason: string): void {
    this.dropSocket()
    const action = closeAction(code, this.upgradeStatus)
    if (action.kind === 'stop') return this.finish(code, action.reason)
    const delay = action.rateLimited ? rateLimitedDelay(this.policy, this.random) : retryDelay(this.attempt, this.policy, this.random)
    this.attempt++
    this.setState('reconnecting', { attempt: this.attempt, delayMs: delay, code, reason: reason || describeClose(code) })
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      if (this.running) this.connect()
    }, delay)
  }

  private finish(code: number | null, reason: string): void {
    this.running = false
    this.dropSocket()
    this.clearTimer('retryTimer')
    this.setState('closed', { code, reason })
  }

  private dropSocket(): void {
    const ws = this.socket
    this.socket = null
    this.pendingSubscribe = null
    this.clearTimer('stableTimer')
    if (this.heartbeat !== null) clearInterval(this.heartbeat)
    this.heartbeat = null
    if (ws === null) return
    // No-op handlers, not null: Node's `ws` throws an 'error' event that has no listener.
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = NOOP
    if (ws.readyState <= 1) {
      try {
        ws.close(1000, 'client closing')
      } catch {
        // Closing a socket that is failing anyway; nothing to recover.
      }
    }
  }

  private clearTimer(name: 'retryTimer' | 'stableTimer'): void {
    const t = this[name]
    if (t !== null) clearTimeout(t)
    this[name] = null
  }

  // ---- events ---------------------------------------------------------------------------------

  private readonly random = (): number => (this.opts.random ?? Math.random)()

  private setState(state: ClientState, info: { attempt?: number; delayMs?: number; code?: number | null; reason: string }): void {
    const previous = this.current
    this.current = state
    this.emit({ type: 'state', state, previous, attempt: info.attempt ?? 0, delayMs: info.delayMs ?? null, code: info.code ?? null, reason: info.reason })
  }

  private emit(e: ClientEvent): void {
    this.events.emit(e)
  }

  private touch(kind: 'reset' | 'upsert' | 'remove', name: string): void {
    this.batches.touch(kind, name)
  }
}

/** Whether `ref` (a name or an apiInstanceName, as a subscribe may give) names `item`. */
function named(item: InstanceItem, ref: string): boolean {
  return item.name === ref || item.apiInstanceName === ref
}

function withToken(url: string, token: string): string {
  const u = new URL(url)
  u.searchParams.set('token', token)
  return u.toString()
}

function describeClose(code: number): string {
  switch (code) {
    case CLOSE.shuttingDown:
      return 'hub shutting down'
    case CLOSE.abnormal:
      return 'connection lost'
    case CLOSE.tooBig:
      return 'frame too big'
    case CLOSE.slowConsumer:
      return 'slow consumer'
    case CLOSE.rateLimited:
      return 'rate limited'
    default:
      return `closed with code ${code}`
  }
}
