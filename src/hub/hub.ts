/**
 * @module Hub: the single writer. Every change to an account's instances enters here, is applied
 * to the in-memory snapshot, gets the account's next `seq`, is appended to the ring, queued for
 * the store and published on the change bus, all synchronously and in that order. Everything else
 * reads the snapshot through the views or subscribes to the bus.
 */
import type { Logger } from 'pino'
import { HubError, MSG } from '../core/errors.js'
import type { InstanceConfig } from '../core/integrations.js'
import { diffItems, renderRyzeItem, renderWachatItem, type RyzeItem } from '../core/item.js'
import { apiInstanceName } from '../core/names.js'
import { applyStatusPatch, initialStatus, type InstanceStatus, type StatusPatch } from '../core/status.js'
import type { Change, ChangeBus, ChangeKind, ChangeRecord } from '../ports/bus.js'
import type { Clock } from '../ports/clock.js'
import type { OutboxRow } from '../ports/outbox.js'
import type { AccountRow, HubStore, InstanceRow, WriteBehind } from '../ports/store.js'
import type { StatusWriter } from '../ports/whatsapp.js'
import { ChangeRing, cutoffOf, type RingAge } from './change-ring.js'
import { Live } from './live.js'
import { stateOf, type AccountState, type AccountView, type InstanceState, type InstanceView, type LiveInstance, type Principal, type TenantPrincipal } from './model.js'
import { PersistQueue } from './persist-queue.js'
import { TokenCache } from './token-cache.js'
import { hashToken, newToken, randomBase36, sameHash } from './tokens.js'

/** Seqs reserved per durable write: one synchronous write per this many changes of an account. */
const SEQ_BLOCK = 1000

export interface HubOptions {
  persistIntervalMs: number
  ringSize: number
  changeLogMax: number
  changeLogMaxAgeS: number
  /** When set, this is the admin token (its hash replaces any stored one). */
  adminToken: string | undefined
}

/** What start() created on first run; the caller prints these once. */
export interface FirstStart {
  adminToken: string | null
  defaultAccountToken: string | null
}

/** The two list-item shapes a view may ask for, serialised. */
export type ItemShape = 'ryze' | 'wachat'

/**
 * One change of an instance, computed from the current state but not applied: the record the bus
 * carries and the instance's whole state after it. The embedded hub applies it at once; a cluster
 * writer applies it once the engine has it, and every follower applies the same from the stream.
 */
export interface PreparedChange {
  record: ChangeRecord
  /** The instance after the change (as it was, for `removed`). */
  state: InstanceState
  /** The item after the change, when the preparer rendered it already (a follower renders its own). */
  item?: RyzeItem
}

export class Hub implements StatusWriter, WriteBehind {
  private readonly accountsById = new Map<number, AccountState>()
  private readonly instances = new Map<number, Live>()
  private readonly principals = new Map<string, Principal>()
  private readonly byApiName = new Map<string, Live>()
  private readonly recentTokens = new TokenCache<Principal>()
  private readonly persist: PersistQueue
  /** HUB_CHANGELOG_MAX_AGE_S, shared by every account's ring and by replays from the store. */
  private readonly age: RingAge
  private adminTokenHash = ''
  private pruneTimer: NodeJS.Timeout | null = null
  /**
   * Accounts whose ring still lacks the change log's recent rows after a restart: it is warmed on
   * the first resume that needs it, not at start (100,000 instances restart in a fraction of the time).
   */
  private readonly coldRings = new Set<number>()
  private stopped = false
  private currentEpoch = ''

  constructor(
    private readonly store: HubStore,
    private readonly bus: ChangeBus,
    private readonly opts: HubOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.persist = new PersistQueue(store, opts.persistIntervalMs, log)
    this.age = { maxAgeMs: opts.changeLogMaxAgeS * 1000, now: () => clock.now() }
  }

  /** Names the stream's history; changes only when continuity cannot be proven (see start). */
  get epoch(): string {
    return this.currentEpoch
  }

  /** Loads the snapshot and decides the epoch. Returns the tokens created on a first start. */
  start(): FirstStart {
    const loaded = this.store.load()
    const first: FirstStart = { adminToken: null, defaultAccountToken: null }

    // A crash may have published changes that never reached the store; only a clean shutdown with
    // an intact change log proves continuity.
    const clean = loaded.meta.get('clean_shutdown') === '1'
    const stored = loaded.meta.get('epoch')
    const logLost = loaded.accounts.some((a) => a.seq > Math.max(loaded.logHeads.get(a.id) ?? 0, a.epochSeq))
    const newEpoch = stored === undefined || !clean || logLost
    const versionBump = new Map<number, number>()
    if (newEpoch && stored !== undefined) {
      // Positions only grow, across epochs too: start above every seq and version that was reserved.
      const jumps = loaded.accounts.map((a) => ({ accountId: a.id, seq: Math.max(a.seq, a.seqReserved), versionBump: Math.max(0, a.seqReserved - a.seq) }))
      this.store.startEpochAbove(jumps)
      for (const [i, j] of jumps.entries()) {
        const a = loaded.accounts[i]!
        a.seq = a.epochSeq = j.seq
        a.seqReserved = Math.max(a.seqReserved, j.seq)
        versionBump.set(j.accountId, j.versionBump)
      }
    }
    for (const a of loaded.accounts) this.addAccount(a)
    for (const row of loaded.instances) {
      const bump = versionBump.get(row.accountId) ?? 0
      // A loaded row reads its record on first use (its getters do not survive a spread): only a
      // new epoch, which must read every version anyway, copies it.
      this.addInstance(bump === 0 ? row : { ...recordOf(row), version: row.version + bump })
    }

    if (newEpoch) {
      this.currentEpoch = `${Date.now().toString(36)}${randomBase36(6)}`
      this.store.setMeta('epoch', this.currentEpoch)
      if (stored !== undefined) this.log.warn({ clean, logLost, previous: stored, epoch: this.currentEpoch }, 'stream continuity lost: new epoch')
    } else {
      this.currentEpoch = stored
      for (const a of this.accountsById.values()) this.coldRings.add(a.id)
    }
    this.store.setMeta('clean_shutdown', '0')

    if (this.opts.adminToken !== undefined) {
      this.adminTokenHash = hashToken(this.opts.adminToken)
    } else if (loaded.meta.has('admin_token_hash')) {
      this.adminTokenHash = loaded.meta.get('admin_token_hash')!
    } else {
      first.adminToken = newToken()
      this.adminTokenHash = hashToken(first.adminToken)
      this.store.setMeta('admin_token_hash', this.adminTokenHash)
    }
    this.principals.set(this.adminTokenHash, { kind: 'admin', tokenHash: this.adminTokenHash })

    if (loaded.accounts.length === 0 && !loaded.meta.has('default_account_created')) {
      first.defaultAccountToken = this.createAccount('default', 100).token
      this.store.setMeta('default_account_created', '1')
    }

    this.pruneTimer = setInterval(() => this.prune(), 60_000)
    this.pruneTimer.unref()
    return first
  }

  /** Flushes pending writes and records a clean shutdown. Idempotent. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    if (this.pruneTimer !== null) clearInterval(this.pruneTimer)
    this.persist.flush()
    this.store.setMeta('clean_shutdown', '1')
  }

  // ---- authentication -------------------------------------------------------------------------

  /**
   * The principal a token belongs to, or null. The map lookup is by hash, then compared in
   * constant time; a token that passed recently skips the hash while its principal is current.
   */
  authenticate(token: string): Principal | null {
    const seen = this.recentTokens.get(token)
    if (seen !== undefined && this.principals.get(seen.tokenHash) === seen) return seen
    const hash = hashToken(token)
    const p = this.principals.get(hash)
    if (p === undefined || !sameHash(p.tokenHash, hash)) return null
    this.recentTokens.set(token, p)
    return p
  }

  /** Whether a principal a socket keeps is still valid (not rotated or deleted). */
  isCurrent(p: Principal): boolean {
    return this.principals.get(p.tokenHash) === p
  }

  // ---- accounts (admin) -----------------------------------------------------------------------

  createAccount(name: string, instanceLimit: number): { account: AccountView; token: string } {
    if ([...this.accountsById.values()].some((a) => a.name === name)) throw new HubError('conflict', MSG.accountNameInUse)
    const token = newToken()
    const row = { name, instanceLimit, tokenHash: hashToken(token), createdAt: this.iso() }
    const id = this.store.createAccount(row)
    const account = this.addAccount({ ...row, id, seq: 0, seqReserved: 0, epochSeq: 0 })
    return { account, token }
  }

  accounts(): AccountView[] {
    return [...this.accountsById.values()]
  }

  account(id: number): AccountView | undefined {
    return this.accountsById.get(id)
  }

  /** The account's id, by name (the CLI and the demo name accounts). */
  accountNamed(name: string): AccountView | undefined {
    for (const a of this.accountsById.values()) if (a.name === name) return a
    return undefined
  }

  deleteAccount(id: number): void {
    const account = this.mustAccount(id)
    const revoked = [account.tokenHash]
    for (const instId of account.ids) {
      const inst = this.instances.get(instId)!
      revoked.push(inst.tokenHash)
      this.forgetInstance(inst)
    }
    this.persist.forgetAccount(id)
    this.coldRings.delete(id)
    this.store.deleteAccount(id)
    this.principals.delete(account.tokenHash)
    this.accountsById.delete(id)
    this.bus.revoke(revoked)
  }

  rotateAccountToken(id: number): string {
    this.mustAccount(id)
    const token = newToken()
    const hash = hashToken(token)
    this.store.setAccountToken(id, hash)
    this.applyAccountToken(id, hash)
    return token
  }

  // ---- changes another cluster node made (the engine holds them; this hub follows) ------------

  /** An account the engine holds: added, or its name, limit and token brought up to date. */
  applyAccount(a: Omit<AccountRow, 'seq' | 'seqReserved' | 'epochSeq'>): void {
    const account = this.accountsById.get(a.id)
    if (account === undefined) return void this.addAccount({ ...a, seq: 0, seqReserved: 0, epochSeq: 0 })
    account.name = a.name
    account.instanceLimit = a.instanceLimit
    if (account.tokenHash !== a.tokenHash) this.applyAccountToken(a.id, a.tokenHash)
  }

  /** The account's token is now `hash`: the old one stops working and what it opened closes. */
  applyAccountToken(id: number, hash: string): void {
    const account = this.mustAccount(id)
    const old = account.tokenHash
    if (old === hash) return
    this.principals.delete(old)
    account.tokenHash = hash
    this.principals.set(hash, { kind: 'account', tokenHash: hash, accountId: id })
    this.bus.revoke([old])
  }

  /** The instance's token is now `hash` (unknown instances are ignored: deleted meanwhile). */
  applyInstanceToken(instanceId: number, hash: string): void {
    const instance = this.instances.get(instanceId)
    if (instance === undefined || instance.tokenHash === hash) return
    const old = instance.tokenHash
    this.principals.delete(old)
    instance.tokenHash = hash
    this.principals.set(hash, { kind: 'instance', tokenHash: hash, accountId: instance.accountId, instanceId: instance.id })
    this.bus.revoke([old])
  }

  // ---- instances ------------------------------------------------------------------------------

  createInstance(accountId: number, name: string, config: InstanceConfig, customToken?: string): { instance: InstanceView; token: string } {
    const draft = this.draftInstance(accountId, name, config, customToken)
    const { status, version: _version, updatedAt, ...row } = draft.row
    const id = this.store.createInstance(row, status, updatedAt)
    this.apply(this.prepareAdded({ ...draft.row, id }))
    return { instance: this.instances.get(id)!, token: draft.token }
  }

  /**
   * A new instance's row, checked against the account (name, quota, token) but not created: the
   * caller assigns its id (the store's, or the cluster's counter) and applies `prepareAdded`.
   */
  draftInstance(accountId: number, name: string, config: InstanceConfig, customToken?: string): { row: Omit<InstanceState, 'id'>; token: string } {
    const account = this.mustAccount(accountId)
    if (account.byName.has(name)) throw new HubError('conflict', MSG.nameInUse)
    if (account.ids.length >= account.instanceLimit) throw new HubError('forbidden', MSG.quotaExceeded)
    const token = customToken ?? newToken()
    const tokenHash = hashToken(token)
    if (this.principals.has(tokenHash)) throw new HubError('invalid', MSG.tokenRefused)
    const now = this.iso()
    const row = {
      accountId: account.id,
      name,
      apiInstanceName: apiInstanceName(account.id, randomBase36(8), name),
      tokenHash,
      config,
      createdAt: now,
      updatedAt: now,
      version: 1,
      status: initialStatus(now),
    }
    return { row, token }
  }

  deleteInstance(instanceId: number): void {
    const p = this.prepareRemoved(instanceId)
    if (p === null) return
    this.store.deleteInstance(instanceId)
    this.apply(p)
  }

  rotateInstanceToken(instanceId: number): string {
    const instance = this.mustInstance(instanceId)
    const token = newToken()
    const hash = hashToken(token)
    this.store.setInstanceToken(instance.id, hash)
    this.applyInstanceToken(instance.id, hash)
    return token
  }

  /**
   * Replaces an instance's integration settings, committed before it returns (the answer
   * acknowledges them); the list item and the stream see the change.
   */
  updateConfig(instanceId: number, config: InstanceConfig): InstanceView {
    this.mustInstance(instanceId)
    this.store.setInstanceConfig(instanceId, config)
    this.apply(this.prepareConfig(instanceId, config))
    const instance = this.instances.get(instanceId)!
    return instance
  }

  /** StatusWriter: the one entry point for sources. Unknown ids (deleted instances) are ignored. */
  updateStatus(instanceId: number, patch: StatusPatch): void {
    if (this.stopped) return
    const p = this.prepareStatus(instanceId, patch)
    if (p !== null) this.apply(p)
  }

  // ---- changes, prepared then applied ---------------------------------------------------------

  /** A status patch as a change, or null when it changes nothing (or the instance is gone). */
  prepareStatus(instanceId: number, patch: StatusPatch): PreparedChange | null {
    const instance = this.instances.get(instanceId)
    if (instance === undefined) return null
    const next = applyStatusPatch(instance.status, patch, this.iso())
    return next === instance.status ? null : this.prepareItem(instance, next, instance.config)
  }

  prepareConfig(instanceId: number, config: InstanceConfig): PreparedChange {
    const instance = this.mustInstance(instanceId)
    return this.prepareItem(instance, instance.status, config)
  }

  prepareAdded(state: InstanceState): PreparedChange {
    const account = this.mustAccount(state.accountId)
    return this.prepared(account, state, 'added', null, renderRyzeItem(state))
  }

  prepareRemoved(instanceId: number): PreparedChange | null {
    const instance = this.instances.get(instanceId)
    if (instance === undefined) return null
    return this.prepared(this.accountsById.get(instance.accountId)!, stateOf(instance), 'removed', null, instance.item)
  }

  /**
   * Applies a prepared change: the snapshot, the account's seq, the ring, the store's write-behind,
   * then the bus. Changes apply in seq order, once: one at or below the account's seq was applied
   * already (a follower sees its own writes again) and is skipped; returns whether it applied.
   */
  apply(p: PreparedChange): boolean {
    const r = p.record
    const account = this.accountsById.get(r.accountId)
    if (account === undefined || r.seq <= account.seq) return false
    if (r.seq !== account.seq + 1) throw new Error(`change ${r.seq} of account ${r.accountId} does not follow ${account.seq}`)
    if (r.kind === 'added') {
      if (this.instances.has(r.instanceId)) return false
      this.addInstance(p.state)
    } else if (r.kind === 'removed') {
      const gone = this.instances.get(r.instanceId)
      if (gone !== undefined) this.forgetInstance(gone)
    } else {
      const instance = this.instances.get(r.instanceId)
      if (instance === undefined) return false
      instance.status = p.state.status
      instance.config = p.state.config
      instance.version = p.state.version
      instance.updatedAt = p.state.updatedAt
      instance.item = p.item ?? renderRyzeItem(instance)
      // version and updatedAt live in the status row, so every item change rewrites it.
      this.persist.status(instance)
    }
    account.seq = r.seq
    if (r.seq > account.seqReserved) {
      account.seqReserved = r.seq + SEQ_BLOCK
      this.store.reserveSeq(account.id, account.seqReserved)
    }
    const change: Change = { seq: r.seq, instanceId: r.instanceId, instance: r.instance, kind: r.kind, at: r.at, frame: r.frame }
    account.ring.push(change)
    this.persist.change(account, { accountId: account.id, ...change })
    this.bus.publish(r)
    if (r.kind === 'removed') this.bus.revoke([p.state.tokenHash])
    return true
  }

  // ---- reads ----------------------------------------------------------------------------------

  instance(id: number): InstanceView | undefined {
    return this.instances.get(id)
  }

  /** An instance's whole state (token hash and secrets included): for the cluster's snapshot only. */
  stateFor(id: number): InstanceState | undefined {
    const i = this.instances.get(id)
    return i === undefined ? undefined : stateOf(i)
  }

  /** The account's instances in list order (by id). */
  instancesOf(accountId: number): InstanceView[] {
    const account = this.accountsById.get(accountId)
    return account === undefined ? [] : account.ids.map((id) => this.instances.get(id)!)
  }

  /** An instance's connection state, read without loading the rest of a record nobody has used yet. */
  stateOf(id: number): InstanceStatus['state'] | undefined {
    return this.instances.get(id)?.connectionState
  }

  /** The instance `ref` names within the account: its name, or its apiInstanceName. */
  lookup(accountId: number, ref: string): InstanceView | undefined {
    const inst = this.accountsById.get(accountId)?.byName.get(ref) ?? this.byApiName.get(ref)
    return inst !== undefined && inst.accountId === accountId ? inst : undefined
  }

  /**
   * The instance `ref` names, if the principal may touch it. Another account's instance is
   * reported as not found, never forbidden.
   */
  resolveInstance(p: Principal, ref: string, opts: { accountOnly?: boolean } = {}): InstanceView {
    if (p.kind === 'admin') throw new HubError('forbidden', MSG.noAccess)
    const inst = this.lookup(p.accountId, ref)
    if (inst === undefined) throw new HubError('notFound', MSG.instanceNotFound)
    if (p.kind === 'instance' && (opts.accountOnly || inst.id !== p.instanceId)) throw new HubError('forbidden', MSG.noAccess)
    return inst
  }

  /** The principal's own instances: all of its account, or its one instance. */
  reachableBy(p: TenantPrincipal): InstanceView[] {
    if (p.kind === 'account') return this.instancesOf(p.accountId)
    const inst = this.instances.get(p.instanceId)
    return inst === undefined ? [] : [inst]
  }

  /** The serialised list item in one of the two shapes, cached per item version. */
  itemJson(view: InstanceView, shape: ItemShape): Buffer {
    const inst = this.instances.get(view.id)
    if (inst === undefined) return Buffer.from(JSON.stringify(shape === 'ryze' ? view.item : renderWachatItem(view)))
    if (shape === 'ryze') {
      if (inst.ryzeJson === null || inst.ryzeJson.version !== inst.version) {
        inst.ryzeJson = { version: inst.version, bytes: Buffer.from(JSON.stringify(inst.item)) }
      }
      return inst.ryzeJson.bytes
    }
    if (inst.wachatJson === null || inst.wachatJson.version !== inst.version) {
      inst.wachatJson = { version: inst.version, bytes: Buffer.from(JSON.stringify(renderWachatItem(inst))) }
    }
    return inst.wachatJson.bytes
  }

  /**
   * Whether a replay of every change after `afterSeq` is possible: `memory` when the ring holds
   * them, `store` when the change log must be read too, null when some are no longer kept (or more
   * than `maxReplay` are missed: such a client is better served by a snapshot).
   */
  replayFrom(accountId: number, afterSeq: number, maxReplay: number): 'memory' | 'store' | null {
    const account = this.accountsById.get(accountId)
    if (account === undefined || afterSeq > account.seq || afterSeq < 0 || account.seq - afterSeq > maxReplay) return null
    if (afterSeq === account.seq) return 'memory'
    if (this.coldRings.has(account.id)) this.warmRing(account)
    if ((account.ring.since(afterSeq, 1) ?? []).length > 0) return 'memory'
    return this.changesAfter(accountId, afterSeq, 1) === null ? null : 'store'
  }

  /**
   * Up to `limit` changes of the account after `afterSeq`, in order ([] when there are none yet),
   * from the ring or, older than the ring, from the change log; null when afterSeq + 1 is no longer
   * kept (pruned, or past the age bound). One bounded read per call: replays are paged.
   */
  changesAfter(accountId: number, afterSeq: number, limit: number): Change[] | null {
    const account = this.accountsById.get(accountId)
    if (account === undefined || afterSeq < 0) return null
    if (afterSeq >= account.seq) return []
    if (this.coldRings.has(account.id)) this.warmRing(account)
    const fromRing = account.ring.since(afterSeq, limit)
    if (fromRing !== null) return fromRing
    // Older than the ring: the change log holds it once pending writes are flushed.
    this.persist.flush()
    const rows = this.store.readChanges(account.id, afterSeq, Math.min(afterSeq + limit, account.seq) + 1)
    // The log is pruned once a minute: rows past the age bound may still be there, but are not kept.
    const cutoff = cutoffOf(this.age)
    const out: Change[] = []
    for (const row of rows) {
      if (row.seq !== afterSeq + 1 + out.length || row.at < cutoff) break
      out.push(row)
    }
    return out.length === 0 ? null : out
  }

  /**
   * Of `names`, those whose instance was removed after `afterSeq` (and is still gone), with its id:
   * a resume naming an instance deleted while the client was away replays that removal.
   */
  removedAfter(accountId: number, afterSeq: number, names: readonly string[]): Map<string, number> {
    const found = new Map<string, number>()
    const account = this.accountsById.get(accountId)
    if (account === undefined || names.length === 0) return found
    const wanted = new Set(names)
    const take = (instanceId: number, instance: string) => {
      if (wanted.has(instance) && !this.instances.has(instanceId)) found.set(instance, instanceId)
    }
    if (this.coldRings.has(account.id)) this.warmRing(account)
    const ringOldest = account.ring.oldestSeq() ?? account.seq + 1
    if (ringOldest > afterSeq + 1) {
      this.persist.flush()
      for (const r of this.store.readRemovals(account.id, afterSeq, ringOldest)) take(r.instanceId, r.instance)
    }
    for (const c of account.ring.since(Math.max(afterSeq, ringOldest - 1)) ?? []) if (c.kind === 'removed') take(c.instanceId, c.instance)
    return found
  }

  flush(): void {
    this.persist.flush()
  }

  /** WriteBehind: called from a bus subscriber's onChange, the rows commit with that change. */
  attach(rows: readonly OutboxRow[], committed: () => void): void {
    this.persist.attach(rows, committed)
  }

  get persistStats() {
    return this.persist.stats
  }

  /** Rows waiting for the next write-behind transaction (statuses, changes, outbox rows). */
  get persistPending(): number {
    return this.persist.pending
  }

  /** `fn` hears how long each write-behind transaction took, in seconds (one observer). */
  observePersist(fn: (seconds: number) => void): void {
    this.persist.onBatch = fn
  }

  // ---- internals ------------------------------------------------------------------------------

  private mustAccount(id: number): AccountState {
    const a = this.accountsById.get(id)
    if (a === undefined) throw new HubError('notFound', MSG.accountNotFound)
    return a
  }

  private mustInstance(id: number): LiveInstance {
    const i = this.instances.get(id)
    if (i === undefined) throw new HubError('notFound', MSG.instanceNotFound)
    return i
  }

  /** The instance's next item version, as a diff against the current item. */
  private prepareItem(instance: LiveInstance, status: InstanceStatus, config: InstanceConfig): PreparedChange {
    const state: InstanceState = { ...stateOf(instance), status, config, version: instance.version + 1, updatedAt: this.iso() }
    const item = renderRyzeItem(state)
    return this.prepared(this.accountsById.get(instance.accountId)!, state, 'diff', diffItems(instance.item, item), item)
  }

  /** The record of a change at the account's next seq; its frame is encoded here, once. */
  private prepared(account: AccountState, state: InstanceState, kind: ChangeKind, changes: Record<string, unknown> | null, item: RyzeItem): PreparedChange {
    const seq = account.seq + 1
    const at = this.clock.now()
    const epoch = this.currentEpoch
    const time = kind === 'removed' ? new Date(at).toISOString() : state.updatedAt
    let frame: string
    if (kind === 'diff') frame = JSON.stringify({ type: 'diff', epoch, seq, instance: state.name, version: state.version, at: time, changes })
    else if (kind === 'added') frame = JSON.stringify({ type: 'added', epoch, seq, instance: item })
    else frame = JSON.stringify({ type: 'removed', epoch, seq, instance: state.name })
    const record: ChangeRecord = {
      seq,
      instanceId: state.id,
      instance: state.name,
      kind,
      at,
      frame,
      accountId: account.id,
      epoch,
      apiInstanceName: state.apiInstanceName,
      version: state.version,
      time,
      changes,
      item: kind === 'added' ? item : null,
      connection: item.connection,
      event: state.status.event,
    }
    return { record, state, item }
  }

  private addAccount(a: AccountRow): AccountState {
    const account: AccountState = {
      id: a.id,
      name: a.name,
      instanceLimit: a.instanceLimit,
      tokenHash: a.tokenHash,
      createdAt: a.createdAt,
      seq: a.seq,
      seqReserved: a.seqReserved,
      ids: [],
      byName: new Map(),
      ring: new ChangeRing(this.opts.ringSize, this.age),
    }
    this.accountsById.set(a.id, account)
    this.principals.set(a.tokenHash, { kind: 'account', tokenHash: a.tokenHash, accountId: a.id })
    return account
  }

  /** Reads the rest of a loaded row only when the instance first needs it (see Live). */
  private addInstance(row: InstanceRow | InstanceState): LiveInstance {
    const account = this.accountsById.get(row.accountId)!
    const instance = new Live(row)
    this.instances.set(row.id, instance)
    this.byApiName.set(row.apiInstanceName, instance)
    account.byName.set(row.name, instance)
    // Ids only grow (AUTOINCREMENT) and load in id order, so appending keeps the list order.
    account.ids.push(row.id)
    this.principals.set(row.tokenHash, { kind: 'instance', tokenHash: row.tokenHash, accountId: row.accountId, instanceId: row.id })
    return instance
  }

  private forgetInstance(instance: LiveInstance): void {
    const account = this.accountsById.get(instance.accountId)!
    this.instances.delete(instance.id)
    this.byApiName.delete(instance.apiInstanceName)
    account.byName.delete(instance.name)
    account.ids = account.ids.filter((id) => id !== instance.id)
    this.principals.delete(instance.tokenHash)
    this.persist.forget(instance.id)
  }

  /** Puts the change log's recent rows in front of the changes the ring got since the start. */
  private warmRing(account: AccountState): void {
    this.coldRings.delete(account.id)
    const first = account.ring.oldestSeq()
    const since = first === null ? [] : (account.ring.since(first - 1) ?? [])
    const older = this.store.recentChanges(account.id, this.opts.ringSize)
    account.ring.clear()
    for (const c of older) if (first === null || c.seq < first) account.ring.push(c)
    for (const c of since) account.ring.push(c)
  }

  /** Drops change-log rows beyond the configured count and age (runs every minute). */
  prune(): void {
    try {
      this.persist.flush()
      this.store.pruneChangeLog(this.opts.changeLogMax, this.clock.now() - this.opts.changeLogMaxAgeS * 1000)
    } catch (err) {
      this.log.error({ err }, 'change log prune failed')
    }
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString()
  }
}

/** Every field of a row, read now. */
function recordOf(row: InstanceRow): InstanceRow {
  const { id, accountId, name, apiInstanceName, tokenHash, config, createdAt, status, version, updatedAt } = row
  return { id, accountId, name, apiInstanceName, tokenHash, config, createdAt, status, version, updatedAt }
}

export type { InstanceStatus }
