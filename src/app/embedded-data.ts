/**
 * @module What `cluster import` reads from an embedded hub's data dir, without writing to it: the
 * accounts, the instances as whole states (token hash, opened config, status snapshot), the admin
 * token hash and the Baileys sessions, opened with the key the embedded hub sealed them with.
 *
 * The positions follow the embedded hub's own restart rule (hub.ts `start`): after a clean
 * shutdown the change log proves every seq and version shown, so they are kept; after a crash the
 * new epoch starts above every seq reserved, and versions jump by as much. An instance the
 * snapshot shows as live without a session to restore gets the same status an embedded restart
 * gives it (`hubRestartedPatch`): nothing will reconnect it. One with a restorable session keeps
 * its state: the cluster's failover scan reconnects it, as the embedded restart would.
 */
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AesGcmBox, parseSecretKey } from '../adapters/crypto/secret-box.js'
import * as schema from '../adapters/sqlite/schema.js'
import { keyOpens, NO_KEY } from '../adapters/sqlite/secrets.js'
import { SqliteStore } from '../adapters/sqlite/store.js'
import { applyStatusPatch, initialStatus } from '../core/status.js'
import { hubRestartedPatch } from '../core/whatsapp/status-patch.js'
import type { InstanceState } from '../hub/model.js'
import type { SecretBox } from '../ports/secrets.js'
import type { AccountRow } from '../ports/store.js'
import { keyFilePath } from './secret-key.js'

export class ImportRefused extends Error {
  override name = 'ImportRefused'
}

/** An account as the cluster gets it; `seq` is its seq in the new epoch's snapshot. */
export type EmbeddedAccount = Omit<AccountRow, 'seqReserved' | 'epochSeq'>

export interface EmbeddedSession {
  instanceId: number
  /** The creds, opened: BufferJSON text. */
  creds: string
  autoStart: boolean
  /** Each signal key, opened: BufferJSON text. */
  keys: { type: string; id: string; value: string }[]
}

export interface EmbeddedData {
  accounts: EmbeddedAccount[]
  /** Each with the seq of its account it was last changed at. */
  instances: { seq: number; state: InstanceState }[]
  adminTokenHash: string | null
  /** The last ids given (AUTOINCREMENT), so the cluster never gives one again. */
  lastAccountId: number
  lastInstanceId: number
  /** Instances with a session, in id order; read one at a time. */
  sessionIds: number[]
  session(instanceId: number): EmbeddedSession | null
  /** Instances shown as live without a session to restore, now `disconnected` (hubRestarted). */
  endedWithoutSession: number
  /** Whether the embedded hub stopped cleanly (positions kept) or not (positions jump). */
  clean: boolean
  /** Where the key that opens its secrets came from. */
  keySource: string
  close(): void
}

const JOURNAL = join(dirname(fileURLToPath(import.meta.url)), '../../drizzle/meta/_journal.json')

/**
 * Opens `file` (the caller holds the data dir's lock). `keys` are the candidate keys in order,
 * each with where it came from; the first that opens the database's secrets is used.
 */
export function readEmbedded(file: string, dataDir: string, keys: { text: string | undefined; source: string }[], now: () => string): EmbeddedData {
  const sqlite = new Database(file, { fileMustExist: true })
  try {
    checkMigrated(sqlite)
    const { box, source } = pickKey(sqlite, dataDir, keys)
    const store = new SqliteStore({ db: drizzle(sqlite, { schema }), sqlite, box, sealedAtOpen: 0, close: () => sqlite.close() })
    const loaded = store.load()
    const clean = loaded.meta.get('clean_shutdown') === '1'
    const restorable = new Set((sqlite.prepare('SELECT instance_id FROM wa_creds WHERE paired = 1 AND auto_start = 1').pluck().all() as number[]))
    const accounts = new Map<number, EmbeddedAccount>()
    const bumps = new Map<number, number>()
    for (const a of loaded.accounts) {
      accounts.set(a.id, { id: a.id, name: a.name, instanceLimit: a.instanceLimit, tokenHash: a.tokenHash, createdAt: a.createdAt, seq: clean ? a.seq : Math.max(a.seq, a.seqReserved) })
      bumps.set(a.id, clean ? 0 : Math.max(0, a.seqReserved - a.seq))
    }
    let endedWithoutSession = 0
    const instances = loaded.instances.map((row) => {
      const account = accounts.get(row.accountId)!
      let status = row.status ?? initialStatus(row.createdAt)
      let version = row.version + (bumps.get(row.accountId) ?? 0)
      let updatedAt = row.updatedAt
      let seq = account.seq
      if ((status.state === 'connected' || status.state === 'connecting') && !restorable.has(row.id)) {
        const at = now()
        status = applyStatusPatch(status, hubRestartedPatch(), at)
        version += 1
        updatedAt = at
        seq = account.seq += 1
        endedWithoutSession++
      }
      const state: InstanceState = {
        id: row.id,
        accountId: row.accountId,
        name: row.name,
        apiInstanceName: row.apiInstanceName,
        tokenHash: row.tokenHash,
        createdAt: row.createdAt,
        updatedAt,
        version,
        status,
        config: row.config,
      }
      return { seq, state }
    })
    const sequences = new Map(sqlite.prepare('SELECT name, seq FROM sqlite_sequence').raw().all() as [string, number][])
    const maxId = (table: 'accounts' | 'instances') => Math.max(sequences.get(table) ?? 0, (sqlite.prepare(`SELECT max(id) FROM ${table}`).pluck().get() as number | null) ?? 0)
    const credsOf = sqlite.prepare('SELECT creds, auto_start AS autoStart FROM wa_creds WHERE instance_id = ?')
    const keysOf = sqlite.prepare('SELECT type, id, value FROM wa_keys WHERE instance_id = ?')
    return {
      accounts: [...accounts.values()],
      instances,
      adminTokenHash: loaded.meta.get('admin_token_hash') ?? null,
      lastAccountId: maxId('accounts'),
      lastInstanceId: maxId('instances'),
      sessionIds: sqlite.prepare('SELECT instance_id FROM wa_creds c WHERE EXISTS (SELECT 1 FROM instances i WHERE i.id = c.instance_id) ORDER BY instance_id').pluck().all() as number[],
      session: (instanceId) => {
        const c = credsOf.get(instanceId) as { creds: string; autoStart: number } | undefined
        if (c === undefined) return null
        const keys = (keysOf.all(instanceId) as { type: string; id: string; value: string }[]).map((k) => ({ ...k, value: box.open(k.value) }))
        return { instanceId, creds: box.open(c.creds), autoStart: c.autoStart === 1, keys }
      },
      endedWithoutSession,
      clean,
      keySource: source,
      close: () => sqlite.close(),
    }
  } catch (err) {
    sqlite.close()
    throw err
  }
}

/** A database an older hub wrote is migrated by starting that data dir's hub once with this version. */
function checkMigrated(sqlite: Database.Database): void {
  const expected = (JSON.parse(readFileSync(JOURNAL, 'utf8')) as { entries: unknown[] }).entries.length
  let applied = 0
  try {
    applied = sqlite.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get() as number
  } catch {
    applied = 0
  }
  if (applied !== expected) {
    throw new ImportRefused(
      `The database has ${applied} of this version's ${expected} migrations: start the embedded hub once with this version (then stop it), and import again.`,
    )
  }
}

function pickKey(sqlite: Database.Database, dataDir: string, keys: { text: string | undefined; source: string }[]): { box: SecretBox; source: string } {
  const file = keyFilePath(dataDir)
  const candidates = [...keys.slice(0, 1), ...(existsSync(file) ? [{ text: readFileSync(file, 'utf8'), source: file }] : []), ...keys.slice(1)]
  let tried = 0
  for (const c of candidates) {
    if (c.text === undefined) continue
    const key = parseSecretKey(c.text)
    if (key === null) throw new ImportRefused(`${c.source}: not a secret key (32 bytes, as 64 hex characters or base64)`)
    const box = new AesGcmBox(key)
    tried++
    if (keyOpens(sqlite, box)) return { box, source: c.source }
  }
  if (tried === 0) return { box: NO_KEY, source: 'none (the database holds no sealed secrets)' }
  throw new ImportRefused(
    `None of ${candidates.filter((c) => c.text !== undefined).map((c) => c.source).join(', ')} opens the secrets in ${dataDir}: ` +
      'set HUB_IMPORT_SECRET_KEY to the HUB_SECRET_KEY the embedded hub ran with.',
  )
}
