/**
 * @module SqliteStore implements the HubStore port over drizzle + better-sqlite3. The write-behind batch is
 * one transaction with prepared statements, however many rows it carries (webhook outbox rows
 * included). Config secrets are sealed with the database's box on the way in and opened on the way
 * out (secrets.ts).
 */
import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm'
import { defaultConfig, type InstanceConfig } from '../../core/integrations.js'
import { eventWordOfState, type EventWord, type InstanceStatus } from '../../core/status.js'
import type { ChangeKind } from '../../ports/bus.js'
import type { AccountRow, ChangeRow, HubStore, InstanceRow, LoadedState, PersistBatch } from '../../ports/store.js'
import type { OpenedDb } from './db.js'
import { accounts, changeLog, instanceStatus, instances, meta, webhookOutbox } from './schema.js'
import { openConfig, sealConfig } from './secrets.js'

export class SqliteStore implements HubStore {
  private readonly db: OpenedDb['db']
  private readonly upsertStatus
  private readonly updateConfig
  private readonly insertChange
  private readonly updateSeq
  private readonly insertOutbox

  private readonly configOf
  private readonly recordOf

  constructor(private readonly opened: OpenedDb) {
    this.db = opened.db
    this.configOf = opened.sqlite.prepare('SELECT config FROM instances WHERE id = ?').pluck()
    this.recordOf = opened.sqlite
      .prepare(
        `SELECT i.created_at, s.state, s.since, s.reason, s.display_status, s.retry_at, s.number_jid, s.presence_status, s.profile, s.version, s.updated_at, s.event, s.synced, s.history_sync, s.close_detail
         FROM instances i LEFT JOIN instance_status s ON s.instance_id = i.id WHERE i.id = ?`,
      )
      .raw()
    const p = sql.placeholder
    this.upsertStatus = this.db
      .insert(instanceStatus)
      .values({
        instanceId: p('instanceId'),
        state: p('state'),
        since: p('since'),
        reason: p('reason'),
        displayStatus: p('displayStatus'),
        retryAt: p('retryAt'),
        numberJid: p('numberJid'),
        presenceStatus: p('presenceStatus'),
        profile: p('profile'),
        version: p('version'),
        updatedAt: p('updatedAt'),
        event: p('event'),
        synced: p('synced'),
        historySync: p('historySync'),
        closeDetail: p('closeDetail'),
      })
      .onConflictDoUpdate({
        target: instanceStatus.instanceId,
        set: {
          state: sql`excluded.state`,
          since: sql`excluded.since`,
          reason: sql`excluded.reason`,
          displayStatus: sql`excluded.display_status`,
          retryAt: sql`excluded.retry_at`,
          numberJid: sql`excluded.number_jid`,
          presenceStatus: sql`excluded.presence_status`,
          profile: sql`excluded.profile`,
          version: sql`excluded.version`,
          updatedAt: sql`excluded.updated_at`,
          event: sql`excluded.event`,
          synced: sql`excluded.synced`,
          historySync: sql`excluded.history_sync`,
          closeDetail: sql`excluded.close_detail`,
        },
      })
      .prepare()
    this.updateConfig = this.db
      .update(instances)
      .set({ config: sql`${p('config')}` })
      .where(eq(instances.id, sql`${p('id')}`))
      .prepare()
    this.insertChange = this.db
      .insert(changeLog)
      .values({
        accountId: p('accountId'),
        seq: p('seq'),
        instanceId: p('instanceId'),
        at: p('at'),
        kind: p('kind'),
        instance: p('instance'),
        frame: p('frame'),
      })
      .onConflictDoNothing()
      .prepare()
    this.updateSeq = this.db
      .update(accounts)
      .set({ seq: sql`${p('seq')}` })
      .where(eq(accounts.id, sql`${p('id')}`))
      .prepare()
    this.insertOutbox = this.db
      .insert(webhookOutbox)
      .values({
        id: p('id'),
        instanceId: p('instanceId'),
        label: p('label'),
        event: p('event'),
        epoch: p('epoch'),
        seq: p('seq'),
        version: p('version'),
        body: p('body'),
        status: 'pending',
        attempts: 0,
        createdAt: p('createdAt'),
        queuedAt: p('createdAt'),
        nextAttemptAt: p('createdAt'),
      })
      .onConflictDoNothing({ target: webhookOutbox.id })
      .prepare()
  }

  /**
   * Raw statements rather than the query builder (a third of a 100,000-instance restart went to
   * mapping rows, most of the rest to collecting garbage), rows iterated rather than collected,
   * and each instance's config read, parsed and opened on first use (LoadedInstance): until then
   * it costs no memory.
   */
  load(): LoadedState {
    const sqlite = this.opened.sqlite
    const metaRows = sqlite.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]
    const accountRows = sqlite
      .prepare('SELECT id, name, instance_limit AS instanceLimit, token_hash AS tokenHash, seq, seq_reserved AS seqReserved, epoch_seq AS epochSeq, created_at AS createdAt FROM accounts ORDER BY id')
      .all() as AccountRow[]
    const rows = sqlite
      .prepare(
        `SELECT i.id, i.account_id, i.name, i.api_instance_name, i.token_hash, s.state
         FROM instances i LEFT JOIN instance_status s ON s.instance_id = i.id ORDER BY i.id`,
      )
      .raw()
    const instances: InstanceRow[] = []
    const reads = { config: (id: number) => this.readConfig(id), record: (id: number) => this.readRecord(id) }
    for (const r of rows.iterate() as IterableIterator<RawIdentity>) instances.push(new LoadedInstance(r, reads))
    const heads = sqlite.prepare('SELECT account_id, max(seq) FROM change_log GROUP BY account_id').raw().all() as [number, number][]
    return {
      meta: new Map(metaRows.map((m) => [m.key, m.value])),
      accounts: accountRows,
      instances,
      logHeads: new Map(heads),
    }
  }

  /** An instance's stored record; null for a row deleted meanwhile. */
  private readRecord(id: number): RawRecord | null {
    return (this.recordOf.get(id) as RawRecord | undefined) ?? null
  }

  /** An instance's stored config, opened; a row deleted meanwhile reads as the defaults. */
  private readConfig(id: number): InstanceConfig {
    const text = this.configOf.get(id) as string | undefined
    return text === undefined ? defaultConfig() : openConfig(this.opened.box, JSON.parse(text) as InstanceConfig)
  }

  setMeta(key: string, value: string): void {
    this.db.insert(meta).values({ key, value }).onConflictDoUpdate({ target: meta.key, set: { value } }).run()
  }

  createAccount(a: Omit<AccountRow, 'id' | 'seq' | 'seqReserved' | 'epochSeq'>): number {
    return this.db.insert(accounts).values({ ...a, seq: 0 }).returning({ id: accounts.id }).get()!.id
  }

  reserveSeq(accountId: number, upTo: number): void {
    this.db.update(accounts).set({ seqReserved: upTo }).where(eq(accounts.id, accountId)).run()
  }

  startEpochAbove(jumps: { accountId: number; seq: number; versionBump: number }[]): void {
    const bumpVersions = this.opened.sqlite.prepare(
      'UPDATE instance_status SET version = version + ? WHERE instance_id IN (SELECT id FROM instances WHERE account_id = ?)',
    )
    this.opened.sqlite.transaction(() => {
      for (const j of jumps) {
        this.db.update(accounts).set({ seq: j.seq, epochSeq: j.seq, seqReserved: sql`max(${accounts.seqReserved}, ${j.seq})` }).where(eq(accounts.id, j.accountId)).run()
        if (j.versionBump > 0) bumpVersions.run(j.versionBump, j.accountId)
      }
    })()
  }

  deleteAccount(id: number): void {
    this.opened.sqlite.transaction(() => {
      this.db.delete(changeLog).where(eq(changeLog.accountId, id)).run()
      this.db.delete(accounts).where(eq(accounts.id, id)).run()
    })()
  }

  setAccountToken(id: number, tokenHash: string): void {
    this.db.update(accounts).set({ tokenHash }).where(eq(accounts.id, id)).run()
  }

  createInstance(i: Omit<InstanceRow, 'id' | 'status' | 'version' | 'updatedAt'>, status: InstanceStatus, updatedAt: string): number {
    return this.opened.sqlite.transaction(() => {
      const id = this.db
        .insert(instances)
        .values({
          accountId: i.accountId,
          name: i.name,
          apiInstanceName: i.apiInstanceName,
          tokenHash: i.tokenHash,
          config: JSON.stringify(sealConfig(this.opened.box, i.config)),
          createdAt: i.createdAt,
        })
        .returning({ id: instances.id })
        .get()!.id
      this.upsertStatus.run(statusParams(id, status, 1, updatedAt))
      return id
    })()
  }

  deleteInstance(id: number): void {
    this.db.delete(instances).where(eq(instances.id, id)).run()
  }

  setInstanceToken(id: number, tokenHash: string): void {
    this.db.update(instances).set({ tokenHash }).where(eq(instances.id, id)).run()
  }

  setInstanceConfig(id: number, config: InstanceConfig): void {
    this.updateConfig.run({ id, config: JSON.stringify(sealConfig(this.opened.box, config)) })
  }

  writeBatch(batch: PersistBatch): void {
    this.opened.sqlite.transaction(() => {
      for (const s of batch.statuses) this.upsertStatus.run(statusParams(s.instanceId, s.status, s.version, s.updatedAt))
      for (const c of batch.changes) {
        this.insertChange.run({ accountId: c.accountId, seq: c.seq, instanceId: c.instanceId, at: c.at, kind: c.kind, instance: c.instance, frame: c.frame })
      }
      for (const s of batch.seqs) this.updateSeq.run({ id: s.accountId, seq: s.seq })
      for (const o of batch.outbox) this.insertOutbox.run({ ...o })
    })()
  }

  readChanges(accountId: number, afterSeq: number, beforeSeq: number): ChangeRow[] {
    return this.db
      .select()
      .from(changeLog)
      .where(and(eq(changeLog.accountId, accountId), gt(changeLog.seq, afterSeq), lt(changeLog.seq, beforeSeq)))
      .orderBy(asc(changeLog.seq))
      .all()
      .map(changeFromRow)
  }

  readRemovals(accountId: number, afterSeq: number, beforeSeq: number): { instanceId: number; instance: string }[] {
    return this.db
      .select({ instanceId: changeLog.instanceId, instance: changeLog.instance })
      .from(changeLog)
      .where(and(eq(changeLog.accountId, accountId), gt(changeLog.seq, afterSeq), lt(changeLog.seq, beforeSeq), eq(changeLog.kind, 'removed')))
      .all()
  }

  recentChanges(accountId: number, limit: number): ChangeRow[] {
    return this.db
      .select()
      .from(changeLog)
      .where(eq(changeLog.accountId, accountId))
      .orderBy(desc(changeLog.seq))
      .limit(limit)
      .all()
      .reverse()
      .map(changeFromRow)
  }

  pruneChangeLog(keep: number, minAt: number): number {
    // The head row of each account is always kept: start-up compares it with the account's seq
    // to notice a lost change log.
    const res = this.opened.sqlite
      .prepare(
        `DELETE FROM change_log WHERE rowid IN (
           SELECT c.rowid FROM change_log c JOIN accounts a ON a.id = c.account_id
           WHERE c.seq < a.seq AND (c.seq <= a.seq - ? OR c.at < ?))`,
      )
      .run(keep, minAt)
    return res.changes
  }

  close(): void {
    this.opened.close()
  }
}

function statusParams(instanceId: number, s: InstanceStatus, version: number, updatedAt: string) {
  return {
    instanceId,
    state: s.state,
    since: s.since,
    reason: s.reason === null ? null : JSON.stringify(s.reason),
    displayStatus: s.displayStatus,
    retryAt: s.retryAt,
    numberJid: s.numberJid,
    presenceStatus: s.presenceStatus,
    profile: JSON.stringify(s.profile),
    version,
    updatedAt,
    event: s.event,
    // The prepared statement binds raw values: SQLite has no boolean.
    synced: s.synced ? 1 : 0,
    historySync: s.historySync === null ? null : JSON.stringify(s.historySync),
    closeDetail: s.closeDetail,
  }
}

type RawIdentity = [id: number, accountId: number, name: string, apiInstanceName: string, tokenHash: string, state: string | null]

type RawRecord = [
  createdAt: string,
  state: string | null,
  since: string,
  reason: string | null,
  displayStatus: string,
  retryAt: string | null,
  numberJid: string | null,
  presenceStatus: string,
  profile: string,
  version: number,
  updatedAt: string,
  event: string | null,
  synced: number | null,
  historySync: string | null,
  closeDetail: string | null,
]

interface Reads {
  config(id: number): InstanceConfig
  record(id: number): RawRecord | null
}

/**
 * A loaded instance: what finds it is read at start, its record (status, version, times) and its
 * config from the database on first use. The hub reads each once and keeps what it gets.
 */
class LoadedInstance implements InstanceRow {
  readonly id: number
  readonly accountId: number
  readonly name: string
  readonly apiInstanceName: string
  readonly tokenHash: string
  readonly state: InstanceStatus['state'] | null
  private rec: { createdAt: string; status: InstanceStatus | null; version: number; updatedAt: string } | null = null

  constructor(
    r: RawIdentity,
    private readonly reads: Reads,
  ) {
    this.id = r[0]
    this.accountId = r[1]
    this.name = r[2]
    this.apiInstanceName = r[3]
    this.tokenHash = r[4]
    this.state = r[5] as InstanceStatus['state'] | null
  }

  get config(): InstanceConfig {
    return this.reads.config(this.id)
  }

  get createdAt(): string {
    return this.record().createdAt
  }

  get status(): InstanceStatus | null {
    return this.record().status
  }

  get version(): number {
    return this.record().version
  }

  get updatedAt(): string {
    return this.record().updatedAt
  }

  private record(): NonNullable<LoadedInstance['rec']> {
    if (this.rec !== null) return this.rec
    const r = this.reads.record(this.id)
    // A row deleted before its first use: the hub is forgetting it; nothing is served from this.
    if (r === null) return (this.rec = { createdAt: new Date(0).toISOString(), status: null, version: 1, updatedAt: new Date(0).toISOString() })
    const state = r[1] as InstanceStatus['state'] | null
    const status: InstanceStatus | null =
      state === null
        ? null
        : {
            state,
            since: r[2],
            reason: r[3] === null ? null : JSON.parse(r[3]),
            displayStatus: r[4],
            retryAt: r[5],
            numberJid: r[6],
            presenceStatus: r[7],
            profile: JSON.parse(r[8]),
            synced: r[12] === 1,
            historySync: r[13] === null ? null : JSON.parse(r[13]),
            closeDetail: r[14],
            event: (r[11] as EventWord | null) ?? eventWordOfState(state),
          }
    return (this.rec = { createdAt: r[0], status, version: r[9] ?? 1, updatedAt: r[10] ?? r[0] })
  }
}

function changeFromRow(r: typeof changeLog.$inferSelect): ChangeRow {
  return { accountId: r.accountId, seq: r.seq, instanceId: r.instanceId, instance: r.instance, kind: r.kind as ChangeKind, at: r.at, frame: r.frame }
}
