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
import type { HubStore, InstanceRow } from '../ports/store.js'
import type { StatusWriter } from '../ports/whatsapp.js'
import { ChangeRing, cutoffOf, type RingAge } from './change-ring.js'
import { Live } from './live.js'
import type { AccountState, AccountView, InstanceView, LiveInstance, Principal, TenantPrincipal } from './model.js'
import { PersistQueue } from './persist-queue.js'
import { TokenCache } from './token-cache.js'
import { hashToken, newToken, randomBase36, sameHash } from './tokens.js'

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

export class Hub implements StatusWriter {
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

    let logLost = false
    for (const a of loaded.accounts) {
      if (a.seq > (loaded.logHeads.get(a.id) ?? 0)) logLost = true
      this.addAccount(a)
    }
    for (const row of loaded.instances) this.addInstance(row)

    // A crash may have published changes that never reached the store; only a clean shutdown with
    // an intact change log proves continuity.
    const clean = loaded.meta.get('clean_shutdown') === '1'
    const stored = loaded.meta.get('epoch')
    if (stored === undefined || !clean || logLost) {
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
    const account = this.addAccount({ ...row, id, seq: 0 })
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
    const account = this.mustAccount(id)
    const token = newToken()
    const hash = hashToken(token)
    this.store.setAccountToken(id, hash)
    const old = account.tokenHash
    this.principals.delete(old)
    account.tokenHash = hash
    this.principals.set(hash, { kind: 'account', tokenHash: hash, accountId: id })
    this.bus.revoke([old])
    return token
  }

  // ---- instances ------------------------------------------------------------------------------

  createInstance(accountId: number, name: string, config: InstanceConfig, customToken?: string): { instance: InstanceView; token: string } {
    const account = this.mustAccount(accountId)
    if (account.byName.has(name)) throw new HubError('conflict', MSG.nameInUse)
    if (account.ids.length >= account.instanceLimit) throw new HubError('forbidden', MSG.quotaExceeded)
    const token = customToken ?? newToken()
    const tokenHash = hashToken(token)
    if (this.principals.has(tokenHash)) throw new HubError('conflict', MSG.tokenInUse)
    const now = this.iso()
    const status = initialStatus(now)
    const row = {
      accountId: account.id,
      name,
      apiInstanceName: apiInstanceName(account.id, randomBase36(8), name),
      tokenHash,
      config,
      createdAt: now,
    }
    const id = this.store.createInstance(row, status, now)
    const instance = this.addInstance({ ...row, id, status, version: 1, updatedAt: now })
    this.emit(account, instance, 'added', null)
    return { instance, token }
  }

  deleteInstance(instanceId: number): void {
    const instance = this.instances.get(instanceId)
    if (instance === undefined) return
    const account = this.accountsById.get(instance.accountId)!
    // Its removal frame reads the record, which must still be stored when first read.
    void instance.item
    this.forgetInstance(instance)
    this.store.deleteInstance(instance.id)
    this.emit(account, instance, 'removed', null)
    this.bus.revoke([instance.tokenHash])
  }

  rotateInstanceToken(instanceId: number): string {
    const instance = this.mustInstance(instanceId)
    const token = newToken()
    const hash = hashToken(token)
    this.store.setInstanceToken(instance.id, hash)
    const old = instance.tokenHash
    this.principals.delete(old)
    instance.tokenHash = hash
    this.principals.set(hash, { kind: 'instance', tokenHash: hash, accountId: instance.accountId, instanceId: instance.id })
    this.bus.revoke([old])
    return token
  }

  /**
   * Replaces an instance's integration settings, committed before it returns (the answer
   * acknowledges them); the list item and the stream see the change.
   */
  updateConfig(instanceId: number, config: InstanceConfig): InstanceView {
    const instance = this.mustInstance(instanceId)
    this.store.setInstanceConfig(instance.id, config)
    const prev = instance.item
    instance.config = config
    this.applyItemChange(instance, prev)
    return instance
  }

  /** StatusWriter: the one entry point for sources. Unknown ids (deleted instances) are ignored. */
  updateStatus(instanceId: number, patch: StatusPatch): void {
    const instance = this.instances.get(instanceId)
    if (instance === undefined || this.stopped) return
    const next = applyStatusPatch(instance.status, patch, this.iso())
    if (next === instance.status) return
    const prev = instance.item
    instance.status = next
    this.applyItemChange(instance, prev)
  }

  // ---- reads ----------------------------------------------------------------------------------

  instance(id: number): InstanceView | undefined {
    return this.instances.get(id)
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

  /** Changes of the account after `afterSeq`, in order, or null when some are no longer kept. */
  changesSince(accountId: number, afterSeq: number): Change[] | null {
    const account = this.accountsById.get(accountId)
    if (account === undefined) return null
    if (afterSeq === account.seq) return []
    if (afterSeq > account.seq || afterSeq < 0) return null
    if (this.coldRings.has(account.id)) this.warmRing(account)
    const fromRing = account.ring.since(afterSeq)
    if (fromRing !== null) return fromRing
    // Older than the ring: the change log holds the rest once pending writes are flushed.
    this.persist.flush()
    const oldest = account.ring.oldestSeq() ?? account.seq + 1
    const older = this.store.readChanges(account.id, afterSeq, oldest)
    const all: Change[] = [...older, ...(account.ring.since(oldest - 1) ?? [])]
    for (let i = 0; i < all.length; i++) if (all[i]!.seq !== afterSeq + 1 + i) return null
    // The log is pruned once a minute: rows past the age bound may still be there, but are not kept.
    const cutoff = cutoffOf(this.age)
    if (all.some((c) => c.at < cutoff)) return null
    return all.length === account.seq - afterSeq ? all : null
  }

  flush(): void {
    this.persist.flush()
  }

  get persistStats() {
    return this.persist.stats
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

  /** `prev` is the item before the record changed (the item renders from the current record). */
  private applyItemChange(instance: LiveInstance, prev: RyzeItem): void {
    const account = this.accountsById.get(instance.accountId)!
    instance.version++
    instance.updatedAt = this.iso()
    instance.item = renderRyzeItem(instance)
    // version and updatedAt live in the status row, so every item change rewrites it.
    this.persist.status(instance)
    this.emit(account, instance, 'diff', diffItems(prev, instance.item))
  }

  private emit(account: AccountState, instance: LiveInstance, kind: ChangeKind, changes: Record<string, unknown> | null): void {
    const seq = ++account.seq
    const at = this.clock.now()
    const epoch = this.currentEpoch
    const time = kind === 'removed' ? new Date(at).toISOString() : instance.updatedAt
    let frame: string
    if (kind === 'diff') {
      frame = JSON.stringify({ type: 'diff', epoch, seq, instance: instance.name, version: instance.version, at: time, changes })
    } else if (kind === 'added') {
      frame = JSON.stringify({ type: 'added', epoch, seq, instance: instance.item })
    } else {
      frame = JSON.stringify({ type: 'removed', epoch, seq, instance: instance.name })
    }
    const change: Change = { seq, instanceId: instance.id, instance: instance.name, kind, at, frame }
    account.ring.push(change)
    this.persist.change(account, { accountId: account.id, ...change })
    const record: ChangeRecord = {
      ...change,
      accountId: account.id,
      epoch,
      apiInstanceName: instance.apiInstanceName,
      version: instance.version,
      time,
      changes,
      item: kind === 'added' ? instance.item : null,
      connection: instance.item.connection,
      event: instance.status.event,
    }
    // The in-memory bus acknowledges at once; an engine's acknowledgement is its own concern.
    void this.bus.publish(record)
  }

  private addAccount(a: { id: number; name: string; instanceLimit: number; tokenHash: string; seq: number; createdAt: string }): AccountState {
    const account: AccountState = { ...a, ids: [], byName: new Map(), ring: new ChangeRing(this.opts.ringSize, this.age) }
    this.accountsById.set(a.id, account)
    this.principals.set(a.tokenHash, { kind: 'account', tokenHash: a.tokenHash, accountId: a.id })
    return account
  }

  /** Reads the rest of `row` only when the instance first needs it (see Live). */
  private addInstance(row: InstanceRow): LiveInstance {
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

export type { InstanceStatus }
