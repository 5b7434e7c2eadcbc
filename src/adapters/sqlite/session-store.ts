/**
 * @module Baileys sessions in SQLite: creds in wa_creds (one row per instance), signal keys in
 * wa_keys keyed by the type string, both as BufferJSON text sealed with the SecretBox (the keys
 * to every linked number never reach the file in clear).
 */
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
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { SecretBox } from '../../ports/secrets.js'
import type { SessionInfo, SessionPort } from '../../ports/socket.js'
import { isPaired, meOf, type AuthHandle, type AuthSource, type BaileysLogger } from '../baileys/creds.js'
import type { Db } from './db.js'
import { waCreds, waKeys } from './schema.js'
import { NO_KEY } from './secrets.js'

export interface SessionStoreOptions {
  /** For the key cache's trace logs. */
  logger?: BaileysLogger
  now?: () => number
  /** The database's box (OpenedDb.box); without it sessions are stored as they are (tests only). */
  box?: SecretBox
}

// 4 bound values per row; stays far below SQLite's variable limit.
const ROWS_PER_STATEMENT = 200

export class SqliteSessionStore implements SessionPort, AuthSource {
  private readonly handles = new Map<number, AuthHandle>()
  private readonly queues = new Map<number, Promise<void>>()
  /** Bumped by wipe(): key and creds writes from an older epoch are dropped. */
  private readonly epochs = new Map<number, number>()
  private readonly box: SecretBox

  constructor(
    private readonly db: Db,
    private readonly opts: SessionStoreOptions = {},
  ) {
    this.box = opts.box ?? NO_KEY
  }

  /** The instance's auth state: loaded once, or fresh creds when none are saved (nothing written yet). */
  auth(instanceId: number): AuthHandle {
    let handle = this.handles.get(instanceId)
    if (handle === undefined) {
      handle = this.load(instanceId)
      this.handles.set(instanceId, handle)
    }
    return handle
  }

  info(instanceId: number): SessionInfo | null {
    const row = this.db
      .select({ creds: waCreds.creds, paired: waCreds.paired, autoStart: waCreds.autoStart })
      .from(waCreds)
      .where(eq(waCreds.instanceId, instanceId))
      .get()
    if (row === undefined) return null
    const creds = JSON.parse(this.box.open(row.creds), BufferJSON.reviver) as AuthenticationCreds
    return {
      paired: row.paired,
      autoStart: row.autoStart,
      me: row.paired ? meOf(creds) : null,
      platform: creds.platform ?? null,
    }
  }

  setAutoStart(instanceId: number, autoStart: boolean): void {
    this.db.update(waCreds).set({ autoStart }).where(eq(waCreds.instanceId, instanceId)).run()
  }

  flush(instanceId: number): Promise<void> {
    return this.queues.get(instanceId) ?? Promise.resolve()
  }

  async wipe(instanceId: number): Promise<void> {
    this.epochs.set(instanceId, this.epoch(instanceId) + 1)
    this.handles.delete(instanceId)
    this.db.transaction((tx) => {
      tx.delete(waCreds).where(eq(waCreds.instanceId, instanceId)).run()
      tx.delete(waKeys).where(eq(waKeys.instanceId, instanceId)).run()
    })
  }

  async discardUnpaired(instanceId: number): Promise<boolean> {
    const creds = this.handles.get(instanceId)?.state.creds ?? this.savedCreds(instanceId)
    if (creds === null || !creds.me || isPaired(creds)) return false
    await this.wipe(instanceId)
    return true
  }

  restorable(): number[] {
    return this.db
      .select({ id: waCreds.instanceId })
      .from(waCreds)
      .where(and(eq(waCreds.paired, true), eq(waCreds.autoStart, true)))
      .all()
      .map((r) => r.id)
  }

  private savedCreds(instanceId: number): AuthenticationCreds | null {
    const row = this.db.select({ creds: waCreds.creds }).from(waCreds).where(eq(waCreds.instanceId, instanceId)).get()
    return row === undefined ? null : (JSON.parse(this.box.open(row.creds), BufferJSON.reviver) as AuthenticationCreds)
  }

  private epoch(instanceId: number): number {
    return this.epochs.get(instanceId) ?? 0
  }

  private load(instanceId: number): AuthHandle {
    const epoch = this.epoch(instanceId)
    const current = () => this.epoch(instanceId) === epoch
    const creds = this.savedCreds(instanceId) ?? initAuthCreds()
    const keys: SignalKeyStore = {
      get: async (type, ids) => this.getKeys(instanceId, type, ids),
      set: async (data) => {
        if (current()) this.setKeys(instanceId, data)
      },
      clear: async () => {
        if (current()) this.db.delete(waKeys).where(eq(waKeys.instanceId, instanceId)).run()
      },
    }
    return {
      state: { creds, keys: makeCacheableSignalKeyStore(keys, this.opts.logger) },
      saveCreds: () =>
        this.enqueue(instanceId, () => {
          if (current()) this.writeCreds(instanceId, creds)
        }),
    }
  }

  private enqueue(instanceId: number, write: () => void): Promise<void> {
    const run = this.flush(instanceId).then(write)
    // The chain survives a failed write; the caller of this write still sees its error.
    this.queues.set(
      instanceId,
      run.catch(() => undefined),
    )
    return run
  }

  private writeCreds(instanceId: number, creds: AuthenticationCreds): void {
    const text = this.box.seal(JSON.stringify(creds, BufferJSON.replacer))
    const paired = isPaired(creds)
    const updatedAt = new Date(this.opts.now?.() ?? Date.now()).toISOString()
    this.db
      .insert(waCreds)
      .values({ instanceId, creds: text, paired, updatedAt })
      .onConflictDoUpdate({ target: waCreds.instanceId, set: { creds: text, paired, updatedAt } })
      .run()
  }

  private getKeys<T extends keyof SignalDataTypeMap>(
    instanceId: number,
    type: T,
    ids: string[],
  ): { [id: string]: SignalDataTypeMap[T] } {
    const out: { [id: string]: SignalDataTypeMap[T] } = {}
    for (let i = 0; i < ids.length; i += ROWS_PER_STATEMENT) {
      const rows = this.db
        .select({ id: waKeys.id, value: waKeys.value })
        .from(waKeys)
        .where(
          and(eq(waKeys.instanceId, instanceId), eq(waKeys.type, type), inArray(waKeys.id, ids.slice(i, i + ROWS_PER_STATEMENT))),
        )
        .all()
      for (const r of rows) {
        let value = JSON.parse(this.box.open(r.value), BufferJSON.reviver)
        // Baileys reads app-state keys as protobuf objects, not plain JSON.
        if (type === 'app-state-sync-key' && value) value = proto.Message.AppStateSyncKeyData.fromObject(value)
        out[r.id] = value
      }
    }
    return out
  }

  /** One transaction per call; a null (or undefined) value deletes the key. */
  private setKeys(instanceId: number, data: SignalDataSet): void {
    this.db.transaction((tx) => {
      for (const [type, entries] of Object.entries(data)) {
        if (!entries) continue
        const upserts: { instanceId: number; type: string; id: string; value: string }[] = []
        const deletes: string[] = []
        for (const [id, value] of Object.entries(entries)) {
          if (value === null || value === undefined) deletes.push(id)
          else upserts.push({ instanceId, type, id, value: this.box.seal(JSON.stringify(value, BufferJSON.replacer)) })
        }
        for (let i = 0; i < upserts.length; i += ROWS_PER_STATEMENT) {
          tx.insert(waKeys)
            .values(upserts.slice(i, i + ROWS_PER_STATEMENT))
            .onConflictDoUpdate({ target: [waKeys.instanceId, waKeys.type, waKeys.id], set: { value: sql`excluded.value` } })
            .run()
        }
        for (let i = 0; i < deletes.length; i += ROWS_PER_STATEMENT) {
          tx.delete(waKeys)
            .where(and(eq(waKeys.instanceId, instanceId), eq(waKeys.type, type), inArray(waKeys.id, deletes.slice(i, i + ROWS_PER_STATEMENT))))
            .run()
        }
      }
    })
  }
}
