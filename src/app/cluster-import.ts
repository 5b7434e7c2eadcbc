/**
 * @module `npm run hub -- cluster import <data dir>` ("Running" in the cluster contract,
 * ../shared/spec/cluster.md): moves an embedded hub's data into an empty cluster, written exactly
 * as the cluster's own commands and writers write it (cluster/keys.ts), so the first node
 * bootstraps it as if it had always been there (cluster/follower.ts). Its change stream is made
 * again: the cluster starts a new epoch.
 *
 * Refused, with nothing changed: without HUB_NATS_URL or HUB_SECRET_KEY; when the data dir holds
 * no database, or a hub holds its lock (taken for the whole import); when the key cannot open
 * its secrets; when the cluster is not empty (an account, an instance, a session, or the default
 * account's marker exists), or refuses this key or lease TTL (its fingerprint).
 */
import { jetstream } from '@nats-io/jetstream'
import { Kvm, type KV } from '@nats-io/kv'
import { BufferJSON, type AuthenticationCreds } from '@whiskeysockets/baileys'
import { existsSync } from 'node:fs'
import { AesGcmBox, parseSecretKey } from '../adapters/crypto/secret-box.js'
import { ensureStream, EngineRefused, openEngine, STREAM, type Engine } from '../adapters/nats/engine.js'
import { credsKey, isWrongRevision, signalKey } from '../adapters/nats/session-keys.js'
import { SESSIONS_BUCKET, sealSessionEntry, sessionsBucketOptions } from '../adapters/nats/session-store.js'
import { epochOf } from '../cluster/epoch.js'
import { K } from '../cluster/keys.js'
import { encodeSnapshot, type AccountEntry } from '../cluster/wire.js'
import type { SecretBox } from '../ports/secrets.js'
import { dbPath } from './compose.js'
import { ConfigError, loadConfig } from './config.js'
import { acquireLock, DataDirLocked, lockPath } from './data-lock.js'
import { ImportRefused, readEmbedded, type EmbeddedData } from './embedded-data.js'

const silent = { info() {}, warn() {}, error() {} }
/** KV writes in flight at once. */
const CONCURRENCY = 64

export async function clusterImport(dataDir: string, env: Record<string, string | undefined>): Promise<{ code: number; out: string }> {
  let cfg
  try {
    cfg = loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return { code: 2, out: err.message }
    throw err
  }
  if (cfg.natsUrl === undefined) return { code: 2, out: 'cluster import needs HUB_NATS_URL (the cluster to import into)' }
  const key = cfg.secretKey === undefined ? null : parseSecretKey(cfg.secretKey)
  if (key === null) return { code: 2, out: "cluster import needs HUB_SECRET_KEY: the cluster's key (every node's), which the imported secrets and sessions are sealed with" }
  const file = dbPath(dataDir)
  if (!existsSync(file)) return refuse(`${dataDir} holds no database (${file}): it is not an embedded hub's data dir.`)

  let release: () => void
  try {
    release = acquireLock(dataDir)
  } catch (err) {
    if (err instanceof DataDirLocked) {
      return refuse(`a hub${err.owner === null ? '' : ` (pid ${err.owner})`} is running on ${dataDir} (it holds ${lockPath(dataDir)}): stop it, then import.`)
    }
    throw err
  }
  let data: EmbeddedData | null = null
  let engine: Engine | null = null
  try {
    data = readEmbedded(file, dataDir, [
      { text: env.HUB_IMPORT_SECRET_KEY || undefined, source: 'HUB_IMPORT_SECRET_KEY' },
      { text: cfg.secretKey, source: 'HUB_SECRET_KEY' },
    ], () => new Date().toISOString())
    engine = await openEngine({ url: cfg.natsUrl, nodeId: `import-${process.pid}`, leaseTtlMs: cfg.leaseTtlMs, secretKey: key, maxReplay: cfg.changeLogMax, log: silent })
    const sessions = await new Kvm(jetstream(engine.nc)).create(SESSIONS_BUCKET, sessionsBucketOptions(1))
    const occupied = await whyNotEmpty(engine.state, sessions)
    if (occupied !== null) return refuse(`The cluster is not empty (${occupied}): import only into a cluster no node has started on.`)
    // Claimed first: a node starting meanwhile then creates no second default account.
    if (!(await created(engine.state, K.defaultAccount, '1'))) return refuse('The cluster is not empty (a node created the default account meanwhile).')
    const lines = await write(engine, new AesGcmBox(key), sessions, data, cfg.changeLogMax)
    return { code: 0, out: lines.join('\n') }
  } catch (err) {
    if (err instanceof ImportRefused || err instanceof EngineRefused) return refuse(err.message)
    throw err
  } finally {
    data?.close()
    await engine?.close()
    release()
  }
}

const refuse = (why: string) => ({ code: 1, out: `error: ${why}\nNothing was imported.` })

/** What makes the cluster not empty, or null. */
async function whyNotEmpty(state: KV, sessions: KV): Promise<string | null> {
  if ((await state.get(K.defaultAccount))?.operation === 'PUT') return 'its default account was created'
  for await (const k of await state.keys()) {
    if (k.startsWith('a.') || k.startsWith('an.')) return 'it has accounts'
    if (k.startsWith('i.')) return 'it has instances'
  }
  for await (const _ of await sessions.keys()) return 'it has sessions'
  return null
}

async function write(engine: Engine, box: SecretBox, sessions: KV, data: EmbeddedData, maxReplay: number): Promise<string[]> {
  const { state, jsm } = engine
  // A new epoch: the change stream is made again (it holds nothing of an empty cluster).
  await jsm.streams.delete(STREAM).catch(() => undefined)
  await ensureStream(jsm, maxReplay)
  const epoch = epochOf((await jsm.streams.info(STREAM)).created)

  await put(state, K.accountCounter, String(data.lastAccountId))
  await put(state, K.instanceCounter, String(data.lastInstanceId))
  await inParallel(data.accounts, async (a) => {
    const entry: AccountEntry = { id: a.id, name: a.name, instanceLimit: a.instanceLimit, tokenHash: a.tokenHash, createdAt: a.createdAt }
    await put(state, K.accountName(a.name), String(a.id))
    await put(state, K.account(a.id), JSON.stringify(entry))
    await put(state, K.accountSeq(a.id), String(a.seq))
  })
  await inParallel(data.instances, (i) => put(state, K.instance(i.state.id), encodeSnapshot(i, box)))

  let sessionCount = 0
  let keyCount = 0
  for (const id of data.sessionIds) {
    const s = data.session(id)
    if (s === null) continue
    await inParallel(s.keys, (k) => put(sessions, signalKey(id, k.type, k.id), box.seal(k.value)))
    // The creds last: a session is whole once its entry exists.
    const creds = JSON.parse(s.creds, BufferJSON.reviver) as AuthenticationCreds
    await put(sessions, credsKey(id), sealSessionEntry(box, creds, s.autoStart, new Date().toISOString()))
    sessionCount++
    keyCount += s.keys.length
  }

  const lines = [
    `Imported ${data.accounts.length} account${data.accounts.length === 1 ? '' : 's'}, ${data.instances.length} instance${data.instances.length === 1 ? '' : 's'}, ${sessionCount} session${sessionCount === 1 ? '' : 's'} (${keyCount} signal keys).`,
  ]
  if (data.adminTokenHash === null) lines.push('The data dir holds no admin token hash (the hub ran with HUB_ADMIN_TOKEN): set HUB_ADMIN_TOKEN on the nodes, or the first node prints a new admin token.')
  else if (await created(state, K.admin, data.adminTokenHash)) lines.push('Admin token: the embedded hub’s, imported (it works on every node).')
  else lines.push('Admin token: the cluster already has one; it is kept (the embedded hub’s does not work on the cluster).')
  if (data.endedWithoutSession > 0) lines.push(`${data.endedWithoutSession} instance(s) shown as live had no session to restore: now disconnected (hubRestarted), as an embedded restart would show them.`)
  if (!data.clean) lines.push('The embedded hub did not stop cleanly: seqs and versions start above every one it reserved.')
  lines.push(`Secrets opened with ${data.keySource}; sealed with this HUB_SECRET_KEY.`, `New epoch: ${epoch}`)
  return lines
}

async function put(kv: KV, key: string, value: string): Promise<void> {
  // Created, never overwritten: a write that finds the key was raced by another writer.
  if (!(await created(kv, key, value))) throw new ImportRefused(`${key} was written by someone else during the import; the cluster is partly imported: empty it before importing again.`)
}

async function created(kv: KV, key: string, value: string): Promise<boolean> {
  try {
    await kv.create(key, value)
    return true
  } catch (err) {
    if (isWrongRevision(err)) return false
    throw err
  }
}

async function inParallel<T>(items: readonly T[], each: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const run = async () => {
    while (next < items.length) await each(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, run))
}
