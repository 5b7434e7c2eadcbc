/**
 * @module The cluster's engine: one NATS connection per node, and the JetStream stream and KV
 * buckets every node shares (cluster contract). Created idempotently by whichever node starts
 * first; a node whose secret key or lease TTL differs from the cluster's fingerprint refuses to join.
 *
 * - stream SH_CHANGES, subjects `sh.chg.<accountId>`: each account's change log, appends fenced by
 *   the expected last subject sequence; kept `maxReplay` messages per account, no age limit (the
 *   age bound applies when read), so the fence survives idle accounts.
 * - bucket sh_state: accounts, instances, token hashes, settings, the status snapshot, counters, meta.
 * - bucket sh_leases (TTL = HUB_LEASE_TTL_MS): socket leases `s.<id>`, writer leases `w.<id>`
 *   (cluster/keys.ts).
 * - bucket sh_nodes (TTL = HUB_LEASE_TTL_MS): a heartbeat per node.
 * - bucket sh_sessions: Baileys creds and signal keys (sealed; the session store makes it).
 * - bucket sh_webhooks: per account, what its writer keeps of its webhook deliveries for the next (webhook-ledger.ts).
 */
import { createHash } from 'node:crypto'
import { connect, type NatsConnection, type Status } from '@nats-io/transport-node'
import { jetstream, jetstreamManager, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream'
import { Kvm, type KV } from '@nats-io/kv'

export const STREAM = 'SH_CHANGES'
export const changeSubject = (accountId: number) => `sh.chg.${accountId}`

export interface EngineOptions {
  /** HUB_NATS_URL: one URL or a comma-separated list. */
  url: string
  nodeId: string
  leaseTtlMs: number
  /** The cluster's HUB_SECRET_KEY (only its fingerprint is shared). */
  secretKey: Buffer
  /** Messages kept per account in the change stream. */
  maxReplay: number
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void; error(o: object, m?: string): void }
}

export interface Engine {
  readonly nc: NatsConnection
  readonly js: JetStreamClient
  readonly jsm: JetStreamManager
  readonly state: KV
  readonly leases: KV
  readonly nodes: KV
  readonly webhooks: KV
  readonly nodeId: string
  readonly leaseTtlMs: number
  /** Whether the connection is up now. */
  connected(): boolean
  /** Status events of the connection (disconnect, reconnect, …). */
  onStatus(fn: (s: Status) => void): void
  /** The change stream's creation time: it changes only when the stream is lost and made again. */
  streamCreated(): Promise<string>
  close(): Promise<void>
}

/** A fingerprint of the settings every node must share; refusing a node names which differs. */
interface Fingerprint {
  leaseTtlMs: number
  keyId: string
}

export class EngineRefused extends Error {
  override name = 'EngineRefused'
}

export async function openEngine(o: EngineOptions): Promise<Engine> {
  const nc = await connect({
    servers: o.url.split(',').map((s) => s.trim()),
    name: o.nodeId,
    // Forever: the default gives up after 10 attempts and never comes back.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // A frozen connection is noticed by pings only: within (maxPingOut + 1) × pingInterval.
    pingInterval: Math.max(500, Math.floor(o.leaseTtlMs / 6)),
    maxPingOut: 2,
    waitOnFirstConnect: true,
    timeout: 5000,
  })
  const jsm = await jetstreamManager(nc)
  const js = jetstream(nc)
  await ensureStream(jsm, o.maxReplay)
  const kvm = new Kvm(nc)
  const state = await kvm.create('sh_state', { history: 1 })
  const leases = await kvm.create('sh_leases', { history: 1, ttl: o.leaseTtlMs })
  const nodes = await kvm.create('sh_nodes', { history: 1, ttl: o.leaseTtlMs })
  const webhooks = await kvm.create('sh_webhooks', { history: 1 })
  // kvm.create keeps an existing bucket's TTL silently: the fingerprint is the real check.
  await checkFingerprint(state, { leaseTtlMs: o.leaseTtlMs, keyId: createHash('sha256').update(o.secretKey).digest('hex').slice(0, 16) })

  const listeners: ((s: Status) => void)[] = []
  let up = true
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') up = false
      if (s.type === 'reconnect') up = true
      for (const l of listeners) l(s)
    }
  })()
  return {
    nc,
    js,
    jsm,
    state,
    leases,
    nodes,
    webhooks,
    nodeId: o.nodeId,
    leaseTtlMs: o.leaseTtlMs,
    connected: () => up && !nc.isClosed(),
    onStatus: (fn) => void listeners.push(fn),
    streamCreated: async () => (await jsm.streams.info(STREAM)).created,
    close: async () => {
      await nc.drain().catch(() => nc.close())
    },
  }
}

/** Creates the change stream, or keeps it: the same config is a no-op, another one is updated. */
export async function ensureStream(jsm: JetStreamManager, maxReplay: number): Promise<void> {
  const config = {
    name: STREAM,
    subjects: ['sh.chg.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: maxReplay,
    max_age: 0,
    allow_direct: true,
    num_replicas: 1,
  }
  try {
    await jsm.streams.add(config)
  } catch {
    await jsm.streams.update(STREAM, { max_msgs_per_subject: maxReplay, allow_direct: true })
  }
}

async function checkFingerprint(state: KV, mine: Fingerprint): Promise<void> {
  const value = JSON.stringify(mine)
  try {
    await state.create('cluster', value)
    return
  } catch {
    // Another node made it: compare.
  }
  const entry = await state.get('cluster')
  const theirs = entry?.json<Fingerprint>()
  if (theirs === undefined || entry?.operation !== 'PUT') return void (await state.put('cluster', value))
  if (theirs.leaseTtlMs !== mine.leaseTtlMs) {
    throw new EngineRefused(`This node's HUB_LEASE_TTL_MS (${mine.leaseTtlMs}) differs from the cluster's (${theirs.leaseTtlMs}): every node needs the same.`)
  }
  if (theirs.keyId !== mine.keyId) {
    throw new EngineRefused("This node's HUB_SECRET_KEY differs from the cluster's: every node needs the same key (sessions and secrets are sealed with it).")
  }
}
