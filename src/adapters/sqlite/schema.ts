/**
 * @module Drizzle tables. Migrations in `drizzle/` are generated from this file with
 * `npm run db:generate` and applied at start; never edit a generated migration.
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/** Key/value facts about the database itself: the stream epoch, the admin token hash, the clean-shutdown flag. */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
})

export const accounts = sqliteTable(
  'accounts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    instanceLimit: integer('instance_limit').notNull(),
    tokenHash: text('token_hash').notNull(),
    /** The last `seq` of the account's stream; written in the same transaction as its change-log rows. */
    seq: integer('seq').notNull().default(0),
    /**
     * Every seq up to this may have been shown: reserved durably, a block at a time, before a seq
     * past it is published. A start after a crash begins its new epoch here.
     */
    seqReserved: integer('seq_reserved').notNull().default(0),
    /** The seq at which the current epoch began for this account (its change log starts after it). */
    epochSeq: integer('epoch_seq').notNull().default(0),
    createdAt: text('created_at').notNull(),
  },
  (t) => [uniqueIndex('accounts_name').on(t.name), uniqueIndex('accounts_token').on(t.tokenHash)],
)

export const instances = sqliteTable(
  'instances',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    accountId: integer('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    apiInstanceName: text('api_instance_name').notNull(),
    tokenHash: text('token_hash').notNull(),
    /** InstanceConfig as JSON, secrets included (never rendered). */
    config: text('config').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('instances_account_name').on(t.accountId, t.name),
    uniqueIndex('instances_api_name').on(t.apiInstanceName),
    uniqueIndex('instances_token').on(t.tokenHash),
  ],
)

/** The status snapshot: one row per instance, upserted by the write-behind queue. */
export const instanceStatus = sqliteTable('instance_status', {
  instanceId: integer('instance_id')
    .primaryKey()
    .references(() => instances.id, { onDelete: 'cascade' }),
  state: text('state').notNull(),
  since: text('since').notNull(),
  reason: text('reason'),
  displayStatus: text('display_status').notNull(),
  retryAt: text('retry_at'),
  numberJid: text('number_jid'),
  presenceStatus: text('presence_status').notNull(),
  profile: text('profile').notNull(),
  version: integer('version').notNull(),
  updatedAt: text('updated_at').notNull(),
  /** The `instance.state` word of the last status change; null in rows written before it existed. */
  event: text('event'),
  /** connection.synced: the offline backlog was received. */
  synced: integer('synced', { mode: 'boolean' }).notNull().default(false),
  /** connection.historySync as JSON, or null. */
  historySync: text('history_sync'),
  /** connection.closeDetail, or null. */
  closeDetail: text('close_detail'),
})

/**
 * One row per change of an instance's connection.state or connection.reason, kept for at least
 * the history retention (7 days; each instance's newest row is kept whatever its age, so the
 * state at any later time is known). Written by the history edge; deleted with the instance.
 */
export const connectionHistory = sqliteTable(
  'connection_history',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    instanceId: integer('instance_id')
      .notNull()
      .references(() => instances.id, { onDelete: 'cascade' }),
    /** The account stream position of the change. */
    seq: integer('seq').notNull(),
    /** Epoch milliseconds of the change. */
    at: integer('at').notNull(),
    state: text('state').notNull(),
    /** connection.reason as JSON, or null. */
    reason: text('reason'),
    displayStatus: text('display_status').notNull(),
  },
  (t) => [index('connection_history_instance_at').on(t.instanceId, t.at)],
)

/** Every frame of every account stream, for resume across restarts; pruned by count and age. */
export const changeLog = sqliteTable(
  'change_log',
  {
    accountId: integer('account_id').notNull(),
    seq: integer('seq').notNull(),
    instanceId: integer('instance_id').notNull(),
    /** Epoch milliseconds, for pruning by age. */
    at: integer('at').notNull(),
    /** The frame's type (diff, added, removed), so a replay never parses frames to learn it. */
    kind: text('kind').notNull().default('diff'),
    /** The instance's name when it changed (a removal names it). */
    instance: text('instance').notNull().default(''),
    /** The exact frame JSON that was published. */
    frame: text('frame').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.seq] }), index('change_log_at').on(t.at)],
)

/** Baileys creds, one row per instance (BufferJSON text). */
export const waCreds = sqliteTable('wa_creds', {
  instanceId: integer('instance_id')
    .primaryKey()
    .references(() => instances.id, { onDelete: 'cascade' }),
  creds: text('creds').notNull(),
  /** Set once the session is paired (creds.me and creds.account); a pairing-code attempt is not a session. */
  paired: integer('paired', { mode: 'boolean' }).notNull().default(false),
  /** False after an explicit stop or a terminal close: such sessions are not reconnected at start. */
  autoStart: integer('auto_start', { mode: 'boolean' }).notNull().default(true),
  updatedAt: text('updated_at').notNull(),
})

/** Baileys signal keys, keyed by the type string (not a fixed v6 key map). */
export const waKeys = sqliteTable(
  'wa_keys',
  {
    instanceId: integer('instance_id')
      .notNull()
      .references(() => instances.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    id: text('id').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.instanceId, t.type, t.id] })],
)

/**
 * The webhook outbox: one row per delivery of one `instance.state` change to one webhook, written
 * in the change's own write-behind transaction and delivered in `pos` order per webhook. Bounded
 * per webhook: pending by HUB_WEBHOOK_MAX_PENDING (the oldest past it are dead-lettered), settled
 * rows by the sender's pruning.
 */
export const webhookOutbox = sqliteTable(
  'webhook_outbox',
  {
    pos: integer('pos').primaryKey({ autoIncrement: true }),
    /** The `webhook-id` header. */
    id: text('id').notNull(),
    instanceId: integer('instance_id')
      .notNull()
      .references(() => instances.id, { onDelete: 'cascade' }),
    label: text('label').notNull(),
    event: text('event').notNull(),
    epoch: text('epoch').notNull(),
    seq: integer('seq').notNull(),
    version: integer('version').notNull(),
    /** The exact JSON POSTed; null once delivered. */
    body: text('body'),
    /** pending, delivered or dead. */
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** Epoch milliseconds, as every time below. */
    createdAt: integer('created_at').notNull(),
    /** Written or last re-queued: the retry age counts from here. */
    queuedAt: integer('queued_at').notNull(),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lastAttemptAt: integer('last_attempt_at'),
    lastError: text('last_error'),
  },
  (t) => [
    uniqueIndex('webhook_outbox_id').on(t.id),
    index('webhook_outbox_hook').on(t.instanceId, t.label, t.status, t.pos),
    index('webhook_outbox_instance').on(t.instanceId, t.pos),
  ],
)
