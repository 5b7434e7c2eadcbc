/**
 * @module The WhatsApp source: one state machine and at most one live socket per instance. It
 * feeds socket events and timers into `reduce`, executes the effects, and publishes every
 * transition through the hub's StatusWriter. Implements WhatsAppControl for the lifecycle endpoints.
 */
import { HubError } from '../../core/errors.js'
import { closeCodeOf } from '../../core/whatsapp/close-codes.js'
import type { Effect } from '../../core/whatsapp/effects.js'
import type { MachineEvent, TimerKind } from '../../core/whatsapp/events.js'
import { reduce } from '../../core/whatsapp/machine.js'
import {
  DEFAULT_MACHINE_CONFIG,
  initialMachine,
  PARKED_PHASES,
  type MachineConfig,
  type MachineState,
} from '../../core/whatsapp/machine-state.js'
import { connectionStateOf, displayStatusOf, failureInWords, hubRestartedPatch } from '../../core/whatsapp/status-patch.js'
import type { ConnectionState } from '../../core/status.js'
import { systemClock, type Clock } from '../../ports/clock.js'
import type { Log, SessionPort, SocketFactory, Timers, VersionPort, WaSocketPort } from '../../ports/socket.js'
import type { ConnectResult, InstanceRef, RestoredInstance, SimulatorControl, StatusWriter, WhatsAppControl } from '../../ports/whatsapp.js'
import { systemTimers, TimerSlots } from './timers.js'

export interface SupervisorOptions {
  /** Baileys' own connectTimeoutMs (default 20 s); the connect watchdog defaults to twice this plus 15 s. */
  baileysConnectTimeoutMs?: number
  watchdogMs?: number
  /** HUB_SILENT_AFTER_MS: an open socket from which nothing arrived this long is restarted. */
  silentAfterMs?: number
  /** How long a fetched WhatsApp Web version is trusted before the next socket fetches it again. Default 24 h. */
  versionMaxAgeMs?: number
  /** How long a logout waits for the socket's own logout before ending the socket. Default 10 s. */
  logoutTimeoutMs?: number
  /** Overrides for the state machine's delays and limits. */
  machine?: Partial<MachineConfig>
}

export interface SupervisorDeps {
  writer: StatusWriter
  sessions: SessionPort
  factory: SocketFactory
  /** Fetched before the first socket, again once a day and before the 405 retry; the factory reads the result. */
  version: VersionPort
  log: Log
  clock?: Clock
  /** In [0, 1); drives the backoff jitter. */
  random?: () => number
  timers?: Timers
  options?: SupervisorOptions
  /** Present in simulated mode only. */
  simulator?: SimulatorControl | null
}

interface Entry {
  readonly id: number
  /** The instance's latest settings and proxy, as the hub last passed them. */
  ref: InstanceRef
  machine: MachineState
  /** The last frame of a socket that has ended (the live socket knows its own). */
  lastFrameAt: number | null
  socket: WaSocketPort | null
  unsubscribe: (() => void) | null
  readonly timers: TimerSlots<TimerKind>
  queue: MachineEvent[]
  busy: boolean
  /** Re-checked after every dispatch (connect and logout waiters). */
  readonly waiters: Set<() => void>
  /** The last wipe; a new socket waits for it so it never loads creds that are being deleted. */
  wiping: Promise<void>
  pairingError: string | null
  forgotten: boolean
}

export class WhatsAppSupervisor implements WhatsAppControl {
  readonly simulator: SimulatorControl | null
  private readonly entries = new Map<number, Entry>()
  private readonly config: MachineConfig
  private readonly clock: Clock
  private readonly random: () => number
  private readonly timers: Timers
  private readonly logoutTimeoutMs: number
  private closed = false
  /** The version refresh in flight, shared by every instance; new sockets wait for it. */
  private versionRefresh: Promise<void> | null = null
  /** When the last version refresh ended (null: never, so the first socket waits for one). */
  private versionAt: number | null = null
  private readonly versionMaxAgeMs: number

  constructor(private readonly deps: SupervisorDeps) {
    const o = deps.options ?? {}
    this.config = {
      ...DEFAULT_MACHINE_CONFIG,
      // A wss endpoint that accepts TCP and never answers TLS takes Baileys 2 × connectTimeoutMs to report.
      watchdogMs: o.watchdogMs ?? 2 * (o.baileysConnectTimeoutMs ?? 20_000) + 15_000,
      ...(o.silentAfterMs === undefined ? {} : { silentAfterMs: o.silentAfterMs }),
      ...o.machine,
    }
    this.versionMaxAgeMs = o.versionMaxAgeMs ?? 86_400_000
    this.clock = deps.clock ?? systemClock
    this.random = deps.random ?? Math.random
    this.timers = deps.timers ?? systemTimers
    this.logoutTimeoutMs = o.logoutTimeoutMs ?? 10_000
    this.simulator = deps.simulator ?? null
  }

  async connect(inst: InstanceRef, opts: { number?: string; timeoutMs: number }): Promise<ConnectResult> {
    this.assertOpen()
    const e = this.entry(inst)
    if (e.machine.phase === 'OPEN') return { status: 'connected' }
    const digits = opts.number?.replace(/\D/g, '')
    const session = this.deps.sessions.info(inst.id)
    const lastClose = e.machine.lastClose
    this.dispatch(e, { type: 'start', session, ...(digits ? { pairingNumber: digits } : {}) })
    return this.awaitConnect(e, Boolean(digits) && !e.machine.paired, opts.timeoutMs, lastClose)
  }

  async reconnect(inst: InstanceRef): Promise<ConnectionState> {
    this.assertOpen()
    const session = this.deps.sessions.info(inst.id)
    if (!session?.paired) throw new HubError('invalid', 'Instance has no saved session — call /connect first')
    const e = this.entry(inst)
    this.dispatch(e, { type: 'start', session, manual: true })
    return connectionStateOf(e.machine)
  }

  async logout(inst: InstanceRef): Promise<{ unlinkSent: boolean }> {
    this.assertOpen()
    const e = this.entry(inst)
    this.dispatch(e, { type: 'logout', linked: this.deps.sessions.info(inst.id)?.paired ?? false })
    await this.until(e, (m) => m.phase === 'LOGGED_OUT')
    await e.wiping
    return { unlinkSent: e.machine.lastClose?.name !== 'logoutUnconfirmed' }
  }

  async remove(instanceId: number): Promise<void> {
    const e = this.entries.get(instanceId)
    if (e !== undefined) {
      e.forgotten = true
      this.entries.delete(instanceId)
      e.timers.clearAll()
      this.dropSocket(e, 'stop')
      this.notify(e)
      await e.wiping
    }
    await this.deps.sessions.wipe(instanceId)
  }

  /**
   * Ends the socket and forgets the instance without a status change or a session write: another
   * cluster node drives it now (its lease was lost or handed over). Idempotent.
   */
  async relinquish(instanceId: number): Promise<void> {
    const e = this.entries.get(instanceId)
    if (e === undefined) return
    e.forgotten = true
    this.entries.delete(instanceId)
    e.timers.clearAll()
    this.dropSocket(e, 'stop')
    this.notify(e)
    await e.wiping
  }

  /** The instances with an entry here (a socket, a retry or a wait): what this node drives. */
  driven(): number[] {
    return [...this.entries.keys()]
  }

  settingsChanged(inst: InstanceRef): void {
    const e = this.entries.get(inst.id)
    if (e === undefined) return
    e.ref = inst
    this.dispatch(e, { type: 'presenceWanted', online: inst.settings.keepOnlineStatus })
  }

  liveness(instanceId: number): { lastFrameAt: number | null } {
    const e = this.entries.get(instanceId)
    if (e === undefined) return { lastFrameAt: null }
    return { lastFrameAt: e.socket?.lastFrameAt() ?? e.lastFrameAt }
  }

  restore(instances: RestoredInstance[]): void {
    const restorable = new Set(this.deps.sessions.restorable())
    for (const inst of instances) {
      if (restorable.has(inst.id)) this.dispatch(this.entry(inst), { type: 'start', session: this.deps.sessions.info(inst.id) })
      else if (inst.state === 'connected' || inst.state === 'connecting') this.deps.writer.updateStatus(inst.id, hubRestartedPatch())
    }
  }

  async shutdown(): Promise<void> {
    this.closed = true
    const entries = [...this.entries.values()]
    for (const e of entries) {
      e.timers.clearAll()
      this.dropSocket(e, 'stop')
      this.notify(e)
    }
    await Promise.all(entries.map((e) => e.wiping.then(() => this.deps.sessions.flush(e.id))))
  }

  /** Ends the socket and keeps the session; the instance is not reconnected at the next start. */
  stop(instanceId: number): void {
    const e = this.entries.get(instanceId)
    if (e !== undefined) this.dispatch(e, { type: 'stop' })
  }

  /** The machine state of an instance (for diagnostics and tests). */
  machineState(instanceId: number): MachineState | undefined {
    return this.entries.get(instanceId)?.machine
  }

  private assertOpen(): void {
    if (this.closed) throw new HubError('unavailable', 'The WhatsApp layer is shutting down')
  }

  private entry(inst: InstanceRef): Entry {
    let e = this.entries.get(inst.id)
    if (e === undefined) {
      e = {
        id: inst.id,
        ref: inst,
        machine: initialMachine(inst.settings.keepOnlineStatus),
        lastFrameAt: null,
        socket: null,
        unsubscribe: null,
        timers: new TimerSlots<TimerKind>(this.timers),
        queue: [],
        busy: false,
        waiters: new Set(),
        wiping: Promise.resolve(),
        pairingError: null,
        forgotten: false,
      }
      this.entries.set(inst.id, e)
    } else {
      e.ref = inst
      if (e.machine.wantOnline !== inst.settings.keepOnlineStatus) this.dispatch(e, { type: 'presenceWanted', online: inst.settings.keepOnlineStatus })
    }
    return e
  }

  /** Runs events one at a time: an effect (end, logout) can emit a close synchronously, which queues. */
  private dispatch(e: Entry, event: MachineEvent): void {
    if (e.forgotten || this.closed) return
    e.queue.push(event)
    if (e.busy) return
    e.busy = true
    try {
      while (e.queue.length > 0) {
        const next = e.queue.shift() as MachineEvent
        const before = e.machine
        const t = reduce(before, next, this.clock.now(), this.random, this.config)
        e.machine = t.state
        if (t.state.phase !== before.phase) {
          this.deps.log.info(
            { instance: e.id, from: before.phase, to: t.state.phase, gen: t.state.gen, reason: t.state.lastClose?.name },
            'whatsapp state',
          )
        }
        for (const effect of t.effects) this.run(e, effect)
        // The machine saw its socket close: forget the dead socket (and its listener) now.
        if (!e.machine.live && e.socket !== null) this.dropSocket(e, 'stop')
      }
    } finally {
      e.busy = false
    }
    this.notify(e)
  }

  private notify(e: Entry): void {
    for (const check of [...e.waiters]) check()
  }

  private run(e: Entry, effect: Effect): void {
    try {
      switch (effect.type) {
        case 'createSocket':
          void this.openSocket(e, effect.gen)
          return
        case 'endSocket':
          this.dropSocket(e, effect.why)
          return
        case 'logoutSocket':
          void this.logoutSocket(e)
          return
        case 'scheduleTimer':
          e.timers.set(effect.kind, effect.ms, () => this.dispatch(e, this.timerEvent(e, effect.kind)))
          return
        case 'cancelTimer':
          e.timers.clear(effect.kind)
          return
        case 'wipeAuth':
          e.wiping = e.wiping
            .then(() => this.deps.sessions.wipe(e.id))
            .catch((err: unknown) => this.deps.log.error({ err, instance: e.id }, 'wiping the session failed'))
          return
        case 'setAutoStart':
          this.deps.sessions.setAutoStart(e.id, effect.autoStart)
          return
        case 'refreshVersion':
          this.refreshVersion()
          return
        case 'fetchProfile':
          this.fetchProfile(e, effect.jid)
          return
        case 'setPresence':
          this.setPresence(e, effect.presence)
          return
        case 'requestPairingCode':
          this.requestPairingCode(e, effect.number)
          return
        case 'publish':
          this.deps.writer.updateStatus(e.id, effect.patch)
          return
      }
    } catch (err) {
      this.deps.log.error({ err, instance: e.id, effect: effect.type }, 'whatsapp effect failed')
    }
  }

  private async openSocket(e: Entry, gen: number): Promise<void> {
    this.dropSocket(e, 'stop')
    try {
      await e.wiping
      // The post-515 socket must not start before pair-success creds are stored.
      await this.deps.sessions.flush(e.id)
      if (await this.deps.sessions.discardUnpaired(e.id)) {
        this.deps.log.info({ instance: e.id, gen }, 'discarded the creds of an unfinished pairing')
      }
      if (this.versionAt === null || this.clock.now() - this.versionAt >= this.versionMaxAgeMs) this.refreshVersion()
      await this.deps.sessions.prepare?.(e.id)
      await this.versionRefresh
    } catch (err) {
      this.deps.log.warn({ err, instance: e.id }, 'preparing the session for a new socket failed')
    }
    if (e.forgotten || this.closed || e.machine.gen !== gen || !e.machine.live || e.socket !== null) return
    let socket: WaSocketPort
    try {
      const proxy = e.ref.proxy.enabled ? e.ref.proxy : null
      socket = this.deps.factory({ instanceId: e.id, generation: gen, options: { proxy, settings: () => e.ref.settings } })
    } catch (err) {
      this.deps.log.warn({ err, instance: e.id, gen }, 'socket creation failed')
      // The factory refuses an unusable proxy rather than going out directly (HUB_PROXY_CONFIG).
      const cause = (err as { code?: unknown } | null)?.code === 'HUB_PROXY_CONFIG' ? 'proxyUnreachable' : null
      this.dispatch(e, { type: 'closed', gen, code: closeCodeOf(err), message: messageOf(err), cause, initiatedBy: 'remote' })
      return
    }
    e.socket = socket
    e.unsubscribe = socket.subscribe((event) => this.dispatch(e, event))
  }

  /** Ends (if still open) and detaches the current socket. Its close event, if any, is ignored by the machine. */
  private dropSocket(e: Entry, why: 'stop' | 'watchdog' | 'silent' | 'logout'): void {
    const socket = e.socket
    if (socket === null) return
    e.socket = null
    e.lastFrameAt = socket.lastFrameAt() ?? e.lastFrameAt
    socket.end(why)
    e.unsubscribe?.()
    e.unsubscribe = null
  }

  private async logoutSocket(e: Entry): Promise<void> {
    const socket = e.socket
    const gen = e.machine.gen
    if (socket === null) {
      // The socket is still being created: there is nothing to unlink through, so close it here.
      this.dispatch(e, { type: 'closed', gen, code: undefined, message: '', initiatedBy: 'logout' })
      return
    }
    let timer: unknown
    try {
      await Promise.race([
        socket.logout(),
        new Promise((_, reject) => {
          timer = this.timers.setTimeout(() => reject(new Error('logout timed out')), this.logoutTimeoutMs)
        }),
      ])
    } catch (err) {
      this.deps.log.warn({ err, instance: e.id }, 'logout through the socket failed; ending it')
    } finally {
      this.timers.clearTimeout(timer)
    }
    // A successful logout already closed it with 401; otherwise this close still ends in LOGGED_OUT.
    if (e.socket === socket) socket.end('logout')
  }

  private refreshVersion(): void {
    if (this.versionRefresh !== null) return
    this.versionRefresh = this.deps.version
      .refresh()
      .catch((err: unknown) => this.deps.log.warn({ err }, 'WhatsApp Web version refresh failed'))
      .then(() => {
        this.versionRefresh = null
        this.versionAt = this.clock.now()
      })
  }

  /** A timer firing; the quiet-socket timers carry how long the socket has been quiet. */
  private timerEvent(e: Entry, kind: TimerKind): MachineEvent {
    if (kind !== 'connectWatchdog' && kind !== 'silence') return { type: 'timer', kind }
    const last = e.socket?.lastFrameAt() ?? null
    return { type: 'timer', kind, idleMs: last === null ? null : this.clock.now() - last, viaProxy: e.socket?.viaProxy ?? false }
  }

  /** The socket reports `online` itself once the request is written: that is all WhatsApp confirms. */
  private setPresence(e: Entry, presence: 'available' | 'unavailable'): void {
    e.socket?.setPresence(presence).then(
      (sent) => {
        if (!sent) this.deps.log.debug({ instance: e.id, presence }, 'presence not sent: no push name yet')
      },
      (err: unknown) => this.deps.log.warn({ err, instance: e.id, presence }, 'presence update failed'),
    )
  }

  private fetchProfile(e: Entry, jid: string): void {
    const socket = e.socket
    if (socket === null) return
    const gen = socket.generation
    socket
      .fetchProfile(jid)
      .then((p) => this.dispatch(e, { type: 'profile', gen, ...p }))
      .catch((err: unknown) => this.deps.log.warn({ err, instance: e.id }, 'profile fetch failed'))
  }

  private requestPairingCode(e: Entry, number: string): void {
    const socket = e.socket
    if (socket === null) return
    const gen = socket.generation
    e.pairingError = null
    socket.requestPairingCode(number).then(
      (code) => this.dispatch(e, { type: 'pairingCode', gen, code }),
      (err: unknown) => {
        this.deps.log.warn({ err, instance: e.id }, 'pairing code request failed')
        e.pairingError = messageOf(err)
        this.dispatch(e, { type: 'pairingFailed', gen })
      },
    )
  }

  private awaitConnect(e: Entry, wantPairing: boolean, timeoutMs: number, closeBefore: MachineState['lastClose']): Promise<ConnectResult> {
    return new Promise<ConnectResult>((resolve, reject) => {
      let timer: unknown
      const done = () => {
        e.waiters.delete(check)
        this.timers.clearTimeout(timer)
      }
      const check = () => {
        const outcome = this.connectOutcome(e, wantPairing)
        if (outcome === undefined) return
        done()
        if (outcome instanceof HubError) reject(outcome)
        else resolve(outcome)
      }
      e.waiters.add(check)
      timer = this.timers.setTimeout(() => {
        done()
        const base = wantPairing ? 'Timed out waiting for a pairing code' : 'Timed out waiting for a QR code'
        // Say why, when a close happened while this request waited (the machine kept retrying it).
        const close = e.machine.lastClose
        reject(new HubError('timeout', close !== null && close !== closeBefore ? `${base}: ${failureInWords(close)}` : base))
      }, timeoutMs)
      check()
    })
  }

  /** What a waiting /connect gets now; undefined while it has to wait. */
  private connectOutcome(e: Entry, wantPairing: boolean): ConnectResult | HubError | undefined {
    const m = e.machine
    if (e.forgotten) return new HubError('notFound', 'Instance was removed')
    if (this.closed) return new HubError('unavailable', 'The WhatsApp layer is shutting down')
    if (m.phase === 'OPEN') return { status: 'connected' }
    if (m.phase === 'AWAITING_QR') {
      if (!wantPairing) return m.qr === null ? undefined : { status: 'qr', qr: m.qr }
      if (m.pairingCode !== null) return { status: 'pairing', pairingCode: m.pairingCode }
      if (e.pairingError !== null) return new HubError('upstream', `Could not get a pairing code: ${e.pairingError}`)
      return undefined
    }
    if (PARKED_PHASES.has(m.phase)) return new HubError('upstream', `WhatsApp connection failed: ${displayStatusOf(m)}`)
    return undefined
  }

  private until(e: Entry, done: (m: MachineState) => boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = () => {
        if (!e.forgotten && !this.closed && !done(e.machine)) return
        e.waiters.delete(check)
        resolve()
      }
      e.waiters.add(check)
      check()
    })
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
