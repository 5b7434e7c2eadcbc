/**
 * @module Hub: the single writer. Every change to an account's instances enters here, is applied
 * to the in-memory snapshot, gets the account's next `seq`, is appended to the ring, handed to the
 * stream listeners and queued for SQLite, all synchronously and in that order. Everything else
 * reads the snapshot or subscribes.
 */
import type { Logger } from 'pino'
import { HubError, MSG } from '../core/errors.js'
import { defaultConfig, type InstanceConfig } from '../core/integrations.js'
import { diffItems, renderRyzeItem } from '../core/item.js'
import { apiInstanceName, normaliseFilter } from '../core/names.js'
import type { Clock, StatusWriter } from '../core/ports.js'
import { applyStatusPatch, initialStatus, type InstanceStatus, type StatusPatch } from '../core/status.js'
import { ChangeRing, cutoffOf, type Change, type RingAge } from './change-ring.js'
import { ListViews, type ListBody, type ListView } from './list-views.js'
import type { AccountState, FrameKind, LiveInstance, Principal, StreamListener } from './model.js'
import { PersistQueue } from './persist-queue.js'
import type { HubStore, InstanceRow } from './store.js'
import { TokenCache } from './token-cache.js'
import { hashToken, newToken, randomBase36, sameHash } from './tokens.js'

export interface HubOptions {
  listCacheBytes: number
  persistIntervalMs: number
  ringSize: number
  changeLogMax: number
  changeLogMaxAgeS: number
  /** When set, this is the admin token (its hash replaces any stored one). */
  adminToken?: string
}

/** What start() created on first run; the caller prints these once. */
export interface FirstStart {
  adminToken: string | null
  defaultAccountToken: string | null
}

export class Hub implements StatusWriter {
  private readonly accounts = new Map<number, AccountState>()
  private readonly instances = new Map<number, LiveInstance>()
  private readonly principals = new Map<string, Principal>()
  private readonly byApiName = new Map<string, LiveInstance>()
  private readonly recentTokens = new TokenCache<Principal>()
  private readonly listeners: StreamListener[] = []
  private readonly views: ListViews
  private readonly persist: PersistQueue
  /** HUB_CHANGELOG_MAX_AGE_S, shared by every account's ring and by replays from SQLite. */
  private readonly age: RingAge
  private adminTokenHash = ''
  private pruneTimer: NodeJS.Timeout | null = null
  private stopped = false
  epoch = ''

  constructor(
    private readonly store: HubStore,
    private readonly opts: HubOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.views = new ListViews(opts.listCacheBytes)
    this.persist = new PersistQueue(store, opts.persistIntervalMs, log)
    this.age = { maxAgeMs: opts.changeLogMaxAgeS * 1000, now: () => clock.now() }
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

    // A crash may have fanned out changes that never reached SQLite; only a clean shutdown with
    // an intact change log proves continuity.
    const clean = loaded.meta.get('clean_shutdown') === '1'
    const stored = loaded.meta.get('epoch')
    if (stored === undefined || !clean || logLost) {
      this.epoch = `${Date.now().toString(36)}${randomBase36(6)}`
      this.store.setMeta('epoch', this.epoch)
      if (stored !== undefined) this.log.warn({ clean, logLost, previous: stored, epoch: this.epoch }, 'stream continuity lost: new epoch')
    } else {
      this.epoch = stored
      for (const a of this.accounts.values()) {
        for (const row of this.store.recentChanges(a.id, this.opts.ringSize)) a.ring.push(row)
      }
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

  addListener(l: StreamListener): void {
    this.listeners.push(l)
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

  // ---- accounts (admin) -----------------------------------------------------------------------

  createAccount(name: string, instanceLimit: number): { account: AccountState; token: string } {
    if ([...this.accounts.values()].some((a) => a.name === name)) throw new HubError(409, MSG.accountNameInUse)
    const token = newToken()
    const row = { name, instanceLimit, tokenHash: hashToken(token), createdAt: this.iso() }
    const id = this.store.createAccount(row)
    const account = this.addAccount({ ...row, id, seq: 0 })
    return { account, token }
  }

  listAccounts(): AccountState[] {
    return [...this.accounts.values()]
  }

  getAccount(id: number): AccountState {
    const a = this.accounts.get(id)
    if (a === undefined) throw new HubError(404, MSG.accountNotFound)
    return a
  }

  deleteAccount(id: number): void {
    const account = this.getAccount(id)
    const revoked = [account.tokenHash]
    for (const instId of account.ids) {
      const inst = this.instances.get(instId)!
      revoked.push(inst.tokenHash)
      this.forgetInstance(inst)
    }
    this.persist.forgetAccount(id)
    this.store.deleteAccount(id)
    this.principals.delete(account.tokenHash)
    this.accounts.delete(id)
    this.views.dropAccount(id)
    for (const l of this.listeners) l.onRevoke(revoked)
  }

  rotateAccountToken(id: number): string {
    const account = this.getAccount(id)
    const token = newToken()
    const hash = hashToken(token)
    this.store.setAccountToken(id, hash)
    const old = account.tokenHash
    this.principals.delete(old)
    account.tokenHash = hash
    this.principals.set(hash, { kind: 'account', tokenHash: hash, account })
    for (const l of this.listeners) l.onRevoke([old])
    return token
  }

  // ---- instances ------------------------------------------------------------------------------

  createInstance(account: AccountState, name: string, config: InstanceConfig, customToken?: string): { instance: LiveInstance; token: string } {
    if (account.byName.has(name)) throw new HubError(409, MSG.nameInUse)
    if (account.ids.length >= account.instanceLimit) throw new HubError(403, MSG.quotaExceeded)
    const token = customToken ?? newToken()
    const tokenHash = hashToken(token)
    if (this.principals.has(tokenHash)) throw new HubError(409, MSG.tokenInUse)
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

  deleteInstance(instance: LiveInstance): void {
    const account = this.accounts.get(instance.accountId)!
    this.forgetInstance(instance)
    this.store.deleteInstance(instance.id)
    this.emit(account, instance, 'removed', null)
    for (const l of this.listeners) l.onRevoke([instance.tokenHash])
  }

  rotateInstanceToken(instance: LiveInstance): string {
    const token = newToken()
    const hash = hashToken(token)
    this.store.setInstanceToken(instance.id, hash)
    const old = instance.tokenHash
    this.principals.delete(old)
    instance.tokenHash = hash
    const account = this.accounts.get(instance.accountId)!
    this.principals.set(hash, { kind: 'instance', tokenHash: hash, account, instance })
    for (const l of this.listeners) l.onRevoke([old])
    return token
  }

  /** Replaces an instance's integration settings; the list item and the stream see the change. */
  updateConfig(instance: LiveInstance, config: InstanceConfig): void {
    instance.config = config
    this.persist.config(instance)
    this.applyItemChange(instance)
  }

  /** StatusWriter: the one entry point for sources. Unknown ids (deleted instances) are ignored. */
  updateStatus(instanceId: number, patch: StatusPatch): void {
    const instance = this.instances.get(instanceId)
    if (instance === undefined || this.stopped) return
    const next = applyStatusPatch(instance.status, patch, this.iso())
    if (next === instance.status) return
    instance.status = next
    this.applyItemChange(instance)
  }

  getInstance(id: number): LiveInstance | undefined {
    return this.instances.get(id)
  }

  instancesOf(account: AccountState): LiveInstance[] {
    return account.ids.map((id) => this.instances.get(id)!)
  }

  /**
   * The instance `ref` (a name in the token's account, or an apiInstanceName) names, if the
   * principal may touch it. Another account's instance is reported as not found, never forbidden.
   */
  resolveInstance(p: Principal, ref: string, opts: { accountOnly?: boolean } = {}): LiveInstance {
    if (p.kind === 'admin') throw new HubError(403, MSG.noAccess)
    const inst = p.account.byName.get(ref) ?? this.byApiName.get(ref)
    if (inst === undefined || inst.accountId !== p.account.id) throw new HubError(404, MSG.instanceNotFound)
    if (p.kind === 'instance' && (opts.accountOnly || inst.id !== p.instance.id)) throw new HubError(403, MSG.noAccess)
    return inst
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** A list body for the principal, cached until the account's seq moves. */
  list(view: ListView, p: Principal, rawFilter: string | undefined): ListBody {
    if (p.kind === 'admin') throw new HubError(403, MSG.accountOnly)
    const account = p.account
    if (p.kind === 'instance') {
      const inst = p.instance
      return this.views.render(view, account, `#${inst.id}`, this.epoch, () => [inst])
    }
    const filter = normaliseFilter(rawFilter)
    if (filter === null) return this.views.render(view, account, '*', this.epoch, () => this.instancesOf(account))
    if (filter.length === 1) {
      const one = this.lookup(account, filter[0]!)
      if (one === undefined) throw new HubError(404, MSG.instanceNotFound)
    }
    return this.views.render(view, account, filter.join(','), this.epoch, () => {
      const found = new Map<number, LiveInstance>()
      for (const name of filter) {
        const inst = this.lookup(account, name)
        if (inst !== undefined) found.set(inst.id, inst)
      }
      return [...found.values()].sort((a, b) => a.id - b.id)
    })
  }

  /** Changes of the account after `afterSeq`, in order, or null when some are no longer kept. */
  changesSince(account: AccountState, afterSeq: number): Change[] | null {
    if (afterSeq === account.seq) return []
    if (afterSeq > account.seq || afterSeq < 0) return null
    const fromRing = account.ring.since(afterSeq)
    if (fromRing !== null) return fromRing
    // Older than the ring: the change log holds the rest once pending writes are flushed.
    this.persist.flush()
    const oldest = account.ring.oldestSeq() ?? account.seq + 1
    const older = this.store.readChanges(account.id, afterSeq, oldest)
    const all = [...older, ...(account.ring.since(oldest - 1) ?? [])]
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

  private lookup(account: AccountState, name: string): LiveInstance | undefined {
    const inst = account.byName.get(name) ?? this.byApiName.get(name)
    return inst !== undefined && inst.accountId === account.id ? inst : undefined
  }

  private applyItemChange(instance: LiveInstance): void {
    const account = this.accounts.get(instance.accountId)!
    const prev = instance.item
    const now = this.iso()
    instance.version++
    instance.updatedAt = now
    instance.item = renderRyzeItem(instance)
    // version and updatedAt live in the status row, so every item change rewrites it.
    this.persist.status(instance)
    const changes = diffItems(prev, instance.item)
    this.emit(account, instance, 'diff', changes)
  }

  private emit(account: AccountState, instance: LiveInstance, kind: FrameKind, changes: Record<string, unknown> | null): void {
    const seq = ++account.seq
    const at = this.clock.now()
    let frame: string
    if (kind === 'diff') {
      frame = JSON.stringify({
        type: 'diff',
        epoch: this.epoch,
        seq,
        instance: instance.name,
        version: instance.version,
        at: instance.updatedAt,
        changes,
      })
    } else if (kind === 'added') {
      frame = JSON.stringify({ type: 'added', epoch: this.epoch, seq, instance: instance.item })
    } else {
      frame = JSON.stringify({ type: 'removed', epoch: this.epoch, seq, instance: instance.name })
    }
    const change: Change = { seq, instanceId: instance.id, at, frame }
    account.ring.push(change)
    this.persist.change(account, { accountId: account.id, ...change })
    for (const l of this.listeners) l.onChange({ account, instance, kind, seq, frame, changes })
  }

  private addAccount(a: { id: number; name: string; instanceLimit: number; tokenHash: string; seq: number; createdAt: string }): AccountState {
    const account: AccountState = { ...a, ids: [], byName: new Map(), ring: new ChangeRing(this.opts.ringSize, this.age) }
    this.accounts.set(a.id, account)
    this.principals.set(a.tokenHash, { kind: 'account', tokenHash: a.tokenHash, account })
    return account
  }

  private addInstance(row: InstanceRow): LiveInstance {
    const account = this.accounts.get(row.accountId)!
    const instance: LiveInstance = {
      id: row.id,
      accountId: row.accountId,
      name: row.name,
      apiInstanceName: row.apiInstanceName,
      tokenHash: row.tokenHash,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      version: row.version,
      status: row.status ?? initialStatus(row.createdAt),
      config: { ...defaultConfig(), ...row.config },
      item: {},
      ryzeJson: null,
      wachatJson: null,
    }
    instance.item = renderRyzeItem(instance)
    this.instances.set(row.id, instance)
    this.byApiName.set(row.apiInstanceName, instance)
    account.byName.set(row.name, instance)
    // Ids only grow (AUTOINCREMENT) and load in id order, so appending keeps the list order.
    account.ids.push(row.id)
    this.principals.set(row.tokenHash, { kind: 'instance', tokenHash: row.tokenHash, account, instance })
    return instance
  }

  private forgetInstance(instance: LiveInstance): void {
    const account = this.accounts.get(instance.accountId)!
    this.instances.delete(instance.id)
    this.byApiName.delete(instance.apiInstanceName)
    account.byName.delete(instance.name)
    account.ids = account.ids.filter((id) => id !== instance.id)
    this.principals.delete(instance.tokenHash)
    this.persist.forget(instance.id)
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
