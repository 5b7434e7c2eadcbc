/**
 * @module Baileys sessions in a JetStream KV bucket (cluster mode): `c.<instanceId>` holds the
 * creds entry (creds, paired, autoStart), `k.<instanceId>.<type>.<id>` each signal key; every value
 * is BufferJSON text sealed with the SecretBox. Only the node that holds a session writes it:
 * `prepare` loads the entry and takes it over with a compare-and-set, and every later creds write
 * is a compare-and-set on the revision this node last wrote. A write that finds another revision
 * means another node took the session over: it is dropped, and this node's hold is lost for good
 * (saveCreds, key writes, setAutoStart and wipe are all refused), so a paused or partitioned node
 * can never roll the ratchet state back. `info` and `restorable` are answered from memory: the
 * held sessions, and a cache of every creds entry kept current by a KV watch.
 *
 * Hazards (nats-server 2.9): a key write cannot be made conditional on the creds revision (no
 * cross-subject expectation before 2.11), so it is checked with a read just before each batch; a
 * node that reads, pauses, then writes can still land one batch of keys after a takeover. The
 * watch can miss entries across a reconnect, so it resumes from the last revision it saw on every
 * `reconnect`. Reads go to the stream leader (no direct get), so a replicated bucket never serves
 * a session older than its last write.
 */
import { jetstream, jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream'
import { Kvm, type KV, type KvEntry, type KvWatchEntry } from '@nats-io/kv'
import type { NatsConnection, QueuedIterator, Status } from '@nats-io/transport-node'
import {
  BufferJSON,
  initAuthCreds,
  makeCacheableSignalKeyStore,
  proto,
  type AuthenticationCreds,
  type SignalDataSet,
  type SignalDataTypeMap,
  type SignalKeyStore,
} from '@whiskeysockets/baileys'
import { HubError } from '../../core/errors.js'
import type { SecretBox } from '../../ports/secrets.js'
import type { Log, SessionInfo, SessionPort } from '../../ports/socket.js'
import { isPaired, meOf, type AuthHandle, type AuthSource, type BaileysLogger } from '../baileys/creds.js'
import { CREDS_FILTER, credsKey, instanceOfCredsKey, isWrongRevision, signalFilter, signalKey } from './session-keys.js'

export const SESSIONS_BUCKET = 'sh_sessions'

export interface KvSessionStoreOptions {
  /** Default `sh_sessions`. */
  bucket?: string
  /** Replicas of the bucket's stream when this store creates it (1, 3 or 5). Default 1. */
  replicas?: number
  /** Timeout of each KV request, ms. Default 5000. */
  timeoutMs?: number
  /** KV requests in flight at once for one batch of signal keys. Default 64. */
  concurrency?: number
  /** How long `start` waits for the watch to deliver every saved creds entry, ms. Default 30 000. */
  readyTimeoutMs?: number
  /** Called once per hold, when this node learns that another node took the session over. */
  onLost?: (instanceId: number, reason: string) => void
  log?: Log
  /** For the key cache's trace logs. */
  logger?: BaileysLogger
  now?: () => number
}

/** Thrown by every write of a hold that another node took over, and by auth/prepare afterwards. */
export class SessionLostError extends HubError {
  constructor(
    readonly instanceId: number,
    reason: string,
  ) {
    super('conflict', `The session of instance ${instanceId} was taken over by another node (${reason}); this node no longer writes it`)
    this.name = 'SessionLostError'
  }
}

/** The sealed JSON of `c.<instanceId>`. */
interface SavedEntry {
  v: 1
  creds: AuthenticationCreds
  paired: boolean
  autoStart: boolean
  savedAt: string
}

/** The sessions bucket's settings, for whoever creates it (this store, `cluster import`). */
export function sessionsBucketOptions(replicas: number) {
  return {
    history: 1,
    storage: StorageType.File,
    replicas,
    // Leader reads: a direct get may be answered by a replica that lags the last write.
    allow_direct: false,
  }
}

/** The sealed value of `c.<instanceId>` (written by this store, and by `cluster import`). */
export function sealSessionEntry(box: SecretBox, creds: AuthenticationCreds, autoStart: boolean, savedAt: string): string {
  const entry: SavedEntry = { v: 1, creds, paired: isPaired(creds), autoStart, savedAt }
  return box.seal(JSON.stringify(entry, BufferJSON.replacer))
}

/** This node's hold on one session: the live creds object every socket generation shares. */
interface Hold {
  readonly instanceId: number
  /** wipe/release bump the instance's epoch: writes of an older hold are dropped. */
  readonly epoch: number
  readonly creds: AuthenticationCreds
  autoStart: boolean
  /** Revision of the last message of `c.<id>` this node knows (an entry or a delete marker); 0: none. */
  revision: number
  /** Whether `c.<id>` holds an entry (setAutoStart updates an existing session only). */
  saved: boolean
  /** The sealed value of the creds write in flight, or of one whose outcome is unknown (a timeout). */
  pending: string | null
  /** Why another node owns the session now; null while this node does. */
  lost: string | null
  handle: AuthHandle | null
}

interface Cached {
  revision: number
  /** null: deleted. */
  info: SessionInfo | null
}

const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} }
/** Attempts of a setAutoStart on a session this node does not hold, against concurrent writers. */
const REWRITE_ATTEMPTS = 3
/** Delay before a failed watch is started again. */
const WATCH_RETRY_MS = 500

export class KvSessionStore implements SessionPort, AuthSource {
  private kv: KV | null = null
  private jsm: JetStreamManager | null = null
  private readonly holds = new Map<number, Hold>()
  private readonly epochs = new Map<number, number>()
  private readonly queues = new Map<number, Promise<void>>()
  private readonly cache = new Map<number, Cached>()
  private readonly bucket: string
  private readonly log: Log
  private watcher: QueuedIterator<KvWatchEntry> | null = null
  /** Bumped by every (re)start of the watch; a watch that finds a newer one started stops itself. */
  private watchGen = 0
  private statuses: AsyncIterable<Status> | null = null
  /** The highest creds revision the watch delivered: where it resumes after a reconnect. */
  private watched = 0
  private closed = false
  private markReady: (() => void) | null = null

  constructor(
    private readonly nc: NatsConnection,
    private readonly box: SecretBox,
    private readonly opts: KvSessionStoreOptions = {},
  ) {
    this.bucket = opts.bucket ?? SESSIONS_BUCKET
    this.log = opts.log ?? silentLog
  }

  /** Opens (or creates) the bucket and resolves once the watch has delivered every saved creds entry. */
  async start(): Promise<void> {
    const timeout = this.opts.timeoutMs ?? 5_000
    this.jsm = await jetstreamManager(this.nc, { timeout })
    this.kv = await new Kvm(jetstream(this.nc, { timeout })).create(this.bucket, sessionsBucketOptions(this.opts.replicas ?? 1))
    const ready = new Promise<void>((resolve) => (this.markReady = resolve))
    await this.startWatch()
    if (await this.noCredsSaved()) this.ready()
    const readyMs = this.opts.readyTimeoutMs ?? 30_000
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        ready,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the sessions watch did not deliver the saved sessions within ${readyMs} ms`)), readyMs)
        }),
      ])
    } finally {
      clearTimeout(timer)
    }
    void this.followReconnects()
  }

  /** Stops the watch after every queued write has settled. Leaves the connection open. */
  async close(): Promise<void> {
    await Promise.all([...this.queues.values()])
    this.closed = true
    this.watcher?.stop()
    ;(this.statuses as { stop?: () => void } | null)?.stop?.()
  }

  /**
   * Loads the saved session into this node and takes it over (a compare-and-set rewrite of the
   * creds entry, so the node that wrote it before is refused from now on); fresh creds when none
   * is saved. Idempotent while the hold lasts. Rejects with SessionLostError once the hold is lost
   * (until `release`), and with a conflict when another node wrote the entry while it was read.
   */
  prepare(instanceId: number): Promise<void> {
    return this.enqueue(instanceId, async () => {
      const held = this.holds.get(instanceId)
      if (held !== undefined) {
        if (held.lost !== null) throw new SessionLostError(instanceId, held.lost)
        return
      }
      const epoch = this.epoch(instanceId)
      const key = credsKey(instanceId)
      const entry = await this.store().get(key)
      let creds: AuthenticationCreds
      let autoStart = true
      let revision = entry?.revision ?? 0
      let saved = false
      if (entry?.operation === 'PUT') {
        let s: SavedEntry
        try {
          s = this.decode(entry)
        } catch (err) {
          throw new Error(`The saved session of instance ${instanceId} cannot be opened (is HUB_SECRET_KEY the same on every node?)`, { cause: err })
        }
        creds = s.creds
        autoStart = s.autoStart
        try {
          revision = await this.store().put(key, this.seal(creds, autoStart), { previousSeq: entry.revision })
        } catch (err) {
          if (isWrongRevision(err)) {
            throw new HubError('conflict', `The session of instance ${instanceId} was written by another node while this node loaded it; not taken over`)
          }
          throw err
        }
        saved = true
        this.note(instanceId, revision, infoOf(creds, autoStart))
      } else {
        creds = initAuthCreds()
      }
      if (this.epoch(instanceId) !== epoch) return
      const hold: Hold = { instanceId, epoch, creds, autoStart, revision, saved, pending: null, lost: null, handle: null }
      hold.handle = this.handleOf(hold)
      this.holds.set(instanceId, hold)
    })
  }

  /** The held auth state. Throws when `prepare` has not loaded it on this node, or the hold is lost. */
  auth(instanceId: number): AuthHandle {
    const hold = this.holds.get(instanceId)
    if (hold === undefined) {
      throw new Error(`The session of instance ${instanceId} is not loaded on this node: await prepare(${instanceId}) before creating a socket`)
    }
    if (hold.lost !== null) throw new SessionLostError(instanceId, hold.lost)
    return hold.handle!
  }

  /** Whether another node took over the session this node held. */
  lost(instanceId: number): boolean {
    return (this.holds.get(instanceId)?.lost ?? null) !== null
  }

  /**
   * Forgets this node's hold without writing (after its socket stopped: the instance went to
   * another node); writes still queued from it are dropped. A later `prepare` loads and takes over
   * what is saved then.
   */
  release(instanceId: number): void {
    if (!this.holds.has(instanceId)) return
    this.epochs.set(instanceId, this.epoch(instanceId) + 1)
    this.holds.delete(instanceId)
  }

  info(instanceId: number): SessionInfo | null {
    const hold = this.holds.get(instanceId)
    if (hold !== undefined && hold.lost === null) return hold.saved ? infoOf(hold.creds, hold.autoStart) : null
    const info = this.cache.get(instanceId)?.info ?? null
    return info === null ? null : { ...info, me: info.me === null ? null : { ...info.me } }
  }

  restorable(): number[] {
    const ids = new Set<number>()
    for (const [id, c] of this.cache) if (c.info?.paired && c.info.autoStart) ids.add(id)
    // A held session's flags may be ahead of the cache by a queued write.
    for (const id of this.holds.keys()) {
      const info = this.info(id)
      if (info?.paired && info.autoStart) ids.add(id)
      else ids.delete(id)
    }
    return [...ids].sort((a, b) => a - b)
  }

  /** Updates an existing session only; the write is queued (see `flush`). */
  setAutoStart(instanceId: number, autoStart: boolean): void {
    const hold = this.holds.get(instanceId)
    if (hold !== undefined) {
      this.setHeldAutoStart(hold, autoStart)
      return
    }
    const cached = this.cache.get(instanceId)
    if (cached?.info == null) return
    cached.info = { ...cached.info, autoStart }
    this.enqueue(instanceId, () => this.rewriteAutoStart(instanceId, autoStart)).catch((err: unknown) =>
      this.log.error({ err, instance: instanceId }, 'saving autoStart failed'),
    )
  }

  flush(instanceId: number): Promise<void> {
    return this.queues.get(instanceId) ?? Promise.resolve()
  }

  /**
   * Deletes the creds entry (a compare-and-set on the held revision) and every signal key. Writes
   * still queued from the hold are dropped. Refused when the hold is lost: a node that no longer
   * owns the session must not delete the new owner's.
   */
  async wipe(instanceId: number): Promise<void> {
    const hold = this.holds.get(instanceId)
    if (hold?.lost != null) throw new SessionLostError(instanceId, hold.lost)
    this.epochs.set(instanceId, this.epoch(instanceId) + 1)
    this.holds.delete(instanceId)
    await this.enqueue(instanceId, async () => {
      const key = credsKey(instanceId)
      if (hold !== undefined) {
        try {
          await this.settle(hold)
          await this.store().delete(key, { previousSeq: hold.revision })
        } catch (err) {
          if (err instanceof SessionLostError || isWrongRevision(err)) {
            // Kept (lost) so that auth and prepare keep refusing until release().
            if (!this.holds.has(instanceId)) this.holds.set(instanceId, hold)
            throw err instanceof SessionLostError ? err : this.lose(hold, 'the creds changed on another node before the wipe')
          }
          throw err
        }
      } else {
        await this.deleteUnheld(instanceId)
      }
      await this.manager().streams.purge(this.streamName(), { filter: this.subject(signalFilter(instanceId)) })
      const after = await this.store().get(key)
      this.note(instanceId, after?.revision ?? 0, null)
    })
  }

  async discardUnpaired(instanceId: number): Promise<boolean> {
    let creds = this.holds.get(instanceId)?.creds ?? null
    if (creds === null) {
      const entry = await this.enqueue(instanceId, () => this.store().get(credsKey(instanceId)))
      creds = entry?.operation === 'PUT' ? this.decode(entry).creds : null
    }
    if (creds === null || !creds.me || isPaired(creds)) return false
    await this.wipe(instanceId)
    return true
  }

  private handleOf(hold: Hold): AuthHandle {
    const id = hold.instanceId
    const keys: SignalKeyStore = {
      get: (type, ids) => this.readKeys(id, type, ids),
      set: (data) => this.enqueue(id, () => this.writeKeys(hold, data)),
      clear: () =>
        this.enqueue(id, async () => {
          if (!this.writable(hold)) return
          await this.assertOwner(hold)
          await this.manager().streams.purge(this.streamName(), { filter: this.subject(signalFilter(id)) })
        }),
    }
    return {
      state: { creds: hold.creds, keys: makeCacheableSignalKeyStore(keys, this.opts.logger) },
      saveCreds: () => this.enqueue(id, () => this.writeCreds(hold)),
    }
  }

  /** False for a wiped or released hold (its writes are dropped); throws for a lost one. */
  private writable(hold: Hold): boolean {
    if (this.epoch(hold.instanceId) !== hold.epoch) return false
    if (hold.lost !== null) throw new SessionLostError(hold.instanceId, hold.lost)
    return true
  }

  private async writeCreds(hold: Hold): Promise<void> {
    if (!this.writable(hold)) return
    await this.settle(hold)
    const sealed = this.seal(hold.creds, hold.autoStart)
    hold.pending = sealed
    try {
      hold.revision = await this.store().put(credsKey(hold.instanceId), sealed, { previousSeq: hold.revision })
    } catch (err) {
      if (!isWrongRevision(err)) throw err
      hold.pending = null
      throw this.lose(hold, `a creds write expected revision ${hold.revision} and found another`)
    }
    hold.pending = null
    hold.saved = true
    this.note(hold.instanceId, hold.revision, infoOf(hold.creds, hold.autoStart))
  }

  /** Resolves a creds write whose outcome is unknown: adopts it if it landed, else checks nobody else wrote. */
  private async settle(hold: Hold): Promise<void> {
    if (hold.pending === null) return
    const entry = await this.store().get(credsKey(hold.instanceId))
    const pending = hold.pending
    hold.pending = null
    if (entry?.operation === 'PUT' && entry.string() === pending) {
      hold.revision = entry.revision
      hold.saved = true
      return
    }
    if ((entry?.revision ?? 0) !== hold.revision) throw this.lose(hold, `the creds are at revision ${entry?.revision ?? 0}, not ${hold.revision}`)
  }

  /** The check before a key write (see the module's hazards). */
  private async assertOwner(hold: Hold): Promise<void> {
    await this.settle(hold)
    const entry = await this.store().get(credsKey(hold.instanceId))
    const revision = entry?.revision ?? 0
    if (revision !== hold.revision) throw this.lose(hold, `the creds are at revision ${revision}, not ${hold.revision}`)
  }

  private lose(hold: Hold, reason: string): SessionLostError {
    if (hold.lost === null) {
      hold.lost = reason
      this.log.warn({ instance: hold.instanceId, reason }, 'session taken over by another node; this node stops writing it')
      try {
        this.opts.onLost?.(hold.instanceId, reason)
      } catch (err) {
        this.log.error({ err, instance: hold.instanceId }, 'onLost failed')
      }
    }
    return new SessionLostError(hold.instanceId, hold.lost)
  }

  private setHeldAutoStart(hold: Hold, autoStart: boolean): void {
    if (hold.lost !== null) {
      this.log.warn({ instance: hold.instanceId, autoStart, reason: hold.lost }, 'autoStart not saved: the session is owned by another node')
      return
    }
    if (!hold.saved) return
    hold.autoStart = autoStart
    this.enqueue(hold.instanceId, () => this.writeCreds(hold)).catch((err: unknown) =>
      this.log.error({ err, instance: hold.instanceId }, 'saving autoStart failed'),
    )
  }

  /** setAutoStart of a session this node does not hold: rewrites the saved creds unchanged, compare-and-set on what it read. */
  private async rewriteAutoStart(instanceId: number, autoStart: boolean): Promise<void> {
    const key = credsKey(instanceId)
    for (let attempt = 1; attempt <= REWRITE_ATTEMPTS; attempt++) {
      const hold = this.holds.get(instanceId)
      // A prepare that ran first holds it now: its own write carries the flag.
      if (hold !== undefined) {
        if (hold.lost === null && hold.saved && hold.autoStart !== autoStart) {
          hold.autoStart = autoStart
          await this.writeCreds(hold)
        }
        return
      }
      const entry = await this.store().get(key)
      if (entry?.operation !== 'PUT') return
      const s = this.decode(entry)
      if (s.autoStart === autoStart) return
      try {
        const revision = await this.store().put(key, this.seal(s.creds, autoStart), { previousSeq: entry.revision })
        this.note(instanceId, revision, infoOf(s.creds, autoStart))
        return
      } catch (err) {
        if (!isWrongRevision(err)) throw err
      }
    }
    throw new HubError('conflict', `autoStart of instance ${instanceId} not saved: its session kept changing on another node`)
  }

  private async deleteUnheld(instanceId: number): Promise<void> {
    const key = credsKey(instanceId)
    for (let attempt = 1; attempt <= REWRITE_ATTEMPTS; attempt++) {
      const entry = await this.store().get(key)
      if (entry?.operation !== 'PUT') return
      try {
        await this.store().delete(key, { previousSeq: entry.revision })
        return
      } catch (err) {
        if (!isWrongRevision(err)) throw err
      }
    }
    throw new HubError('conflict', `The session of instance ${instanceId} was not wiped: it kept changing on another node`)
  }

  private async readKeys<T extends keyof SignalDataTypeMap>(
    instanceId: number,
    type: T,
    ids: string[],
  ): Promise<{ [id: string]: SignalDataTypeMap[T] }> {
    const values: (SignalDataTypeMap[T] | undefined)[] = new Array(ids.length)
    await eachLimit(ids, this.concurrency(), async (id, i) => {
      const entry = await this.store().get(signalKey(instanceId, type, id))
      if (entry === null || entry.operation !== 'PUT') return
      let value = JSON.parse(this.box.open(entry.string()), BufferJSON.reviver)
      // Baileys reads app-state keys as protobuf objects, not plain JSON.
      if (type === 'app-state-sync-key' && value) value = proto.Message.AppStateSyncKeyData.fromObject(value)
      values[i] = value
    })
    const out: { [id: string]: SignalDataTypeMap[T] } = {}
    ids.forEach((id, i) => {
      const v = values[i]
      if (v !== undefined) out[id] = v
    })
    return out
  }

  /** A null (or undefined) value deletes the key: its subject is purged, so no marker is left behind. */
  private async writeKeys(hold: Hold, data: SignalDataSet): Promise<void> {
    if (!this.writable(hold)) return
    await this.assertOwner(hold)
    const puts: [string, string][] = []
    const deletes: string[] = []
    for (const [type, entries] of Object.entries(data)) {
      if (!entries) continue
      for (const [id, value] of Object.entries(entries)) {
        const key = signalKey(hold.instanceId, type, id)
        if (value === null || value === undefined) deletes.push(key)
        else puts.push([key, this.box.seal(JSON.stringify(value, BufferJSON.replacer))])
      }
    }
    const kv = this.store()
    const jsm = this.manager()
    await eachLimit(puts, this.concurrency(), async ([key, value]) => {
      await kv.put(key, value)
    })
    await eachLimit(deletes, this.concurrency(), async (key) => {
      await jsm.streams.purge(this.streamName(), { filter: this.subject(key) })
    })
  }

  private enqueue<T>(instanceId: number, job: () => Promise<T>): Promise<T> {
    const run = this.flush(instanceId).then(job)
    // The chain survives a failed job; the caller of that job still sees its error.
    this.queues.set(
      instanceId,
      run.then(
        () => undefined,
        () => undefined,
      ),
    )
    return run
  }

  private async startWatch(): Promise<void> {
    const gen = ++this.watchGen
    const from = this.watched
    const w = await this.store().watch({ key: CREDS_FILTER, ...(from > 0 ? { resumeFromRevision: from + 1 } : {}) })
    if (gen !== this.watchGen || this.closed) {
      w.stop()
      return
    }
    this.watcher = w
    void (async () => {
      try {
        for await (const e of w) {
          this.apply(e)
          if (e.delta === 0) this.ready()
        }
      } catch (err) {
        if (!this.closed) this.log.warn({ err }, 'the sessions watch failed')
      }
    })()
  }

  /** A watch can miss entries across a reconnect (NOTES item 8): resume it from the last revision seen. */
  private async followReconnects(): Promise<void> {
    this.statuses = this.nc.status()
    for await (const s of this.statuses) {
      if (this.closed) return
      if (s.type === 'reconnect') this.restartWatch()
    }
  }

  private restartWatch(): void {
    if (this.closed) return
    this.watcher?.stop()
    this.startWatch().catch((err: unknown) => {
      this.log.warn({ err }, 'restarting the sessions watch failed; retrying')
      setTimeout(() => this.restartWatch(), WATCH_RETRY_MS).unref()
    })
  }

  private apply(e: KvWatchEntry): void {
    const id = instanceOfCredsKey(e.key)
    if (id === null) return
    if (e.revision > this.watched) this.watched = e.revision
    const hold = this.holds.get(id)
    if (hold !== undefined && hold.lost === null && e.revision > hold.revision) {
      const ours = hold.pending !== null && e.operation === 'PUT' && e.string() === hold.pending
      if (!ours) this.lose(hold, `its creds were ${e.operation === 'PUT' ? 'written' : 'deleted'} by another node at revision ${e.revision}`)
    }
    const info = e.operation === 'PUT' ? this.infoOfEntry(id, e) : null
    this.note(id, e.revision, info)
  }

  private infoOfEntry(instanceId: number, e: KvEntry): SessionInfo | null {
    try {
      const s = this.decode(e)
      return infoOf(s.creds, s.autoStart)
    } catch (err) {
      this.log.error({ err, instance: instanceId, revision: e.revision }, 'a saved session cannot be read (is HUB_SECRET_KEY the same on every node?)')
      return null
    }
  }

  /** Keeps the newest revision per instance; the watch may deliver what this node wrote after the write's answer. */
  private note(instanceId: number, revision: number, info: SessionInfo | null): void {
    const c = this.cache.get(instanceId)
    if (c !== undefined && revision <= c.revision) return
    this.cache.set(instanceId, { revision, info })
  }

  private ready(): void {
    this.markReady?.()
    this.markReady = null
  }

  private async noCredsSaved(): Promise<boolean> {
    const keys = await this.store().keys(CREDS_FILTER)
    for await (const _ of keys) {
      keys.stop()
      return false
    }
    return true
  }

  private seal(creds: AuthenticationCreds, autoStart: boolean): string {
    return sealSessionEntry(this.box, creds, autoStart, new Date(this.opts.now?.() ?? Date.now()).toISOString())
  }

  private decode(e: KvEntry): SavedEntry {
    const s = JSON.parse(this.box.open(e.string()), BufferJSON.reviver) as SavedEntry
    if (s?.v !== 1 || typeof s.creds !== 'object' || s.creds === null) throw new Error(`${e.key} at revision ${e.revision} is not a session entry`)
    return s
  }

  private epoch(instanceId: number): number {
    return this.epochs.get(instanceId) ?? 0
  }

  private concurrency(): number {
    return this.opts.concurrency ?? 64
  }

  private streamName(): string {
    return `KV_${this.bucket}`
  }

  private subject(key: string): string {
    return `$KV.${this.bucket}.${key}`
  }

  private store(): KV {
    if (this.kv === null) throw new Error('KvSessionStore used before start()')
    return this.kv
  }

  private manager(): JetStreamManager {
    if (this.jsm === null) throw new Error('KvSessionStore used before start()')
    return this.jsm
  }
}

function infoOf(creds: AuthenticationCreds, autoStart: boolean): SessionInfo {
  const paired = isPaired(creds)
  return { paired, autoStart, me: paired ? meOf(creds) : null, platform: creds.platform ?? null }
}

/** Runs `fn` over `items` with at most `limit` in flight; stops starting new ones after a failure. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++
      try {
        await fn(items[i] as T, i)
      } catch (err) {
        failed = true
        throw err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
