/**
 * @module Where the cluster keeps what, in the engine ("Running" in the cluster contract,
 * ../shared/spec/cluster.md). Keys are KV keys (`^[-/=.\w]+$`): user-chosen text (account
 * names, node ids) is base64url-encoded first.
 *
 * sh_state (no TTL):
 * - `cluster`: the fingerprint every node must match (engine.ts)
 * - `m.admin`: the admin token's hash; `m.default`: present once the default account was created
 * - `n.account`, `n.instance`: the last id given (compare-and-set counters)
 * - `a.<id>`: an account (name, limit, token hash, createdAt); `an.<name>`: its name, taken
 * - `q.<accountId>`: the account's seq as its writer last wrote it behind
 * - `i.<id>`: an instance's whole state (sealed) and the seq of its last change, written behind
 * - `o.<instanceId>`: the node whose socket last drove the instance (for the failover reason)
 * sh_leases (TTL HUB_LEASE_TTL_MS): `w.<accountId>` writer leases (the writer also delivers the
 *   account's webhooks), `s.<instanceId>` socket leases
 * sh_nodes (TTL HUB_LEASE_TTL_MS): `<node>` one heartbeat per node
 * sh_webhooks (no TTL): per account, its webhooks' resume point, cursors and dead letters
 *   (adapters/nats/webhook-ledger.ts)
 */
export const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url') || '='
export const unb64 = (key: string) => (key === '=' ? '' : Buffer.from(key, 'base64url').toString('utf8'))

export const K = {
  admin: 'm.admin',
  defaultAccount: 'm.default',
  accountCounter: 'n.account',
  instanceCounter: 'n.instance',
  account: (id: number) => `a.${id}`,
  accountName: (name: string) => `an.${b64(name)}`,
  accountSeq: (id: number) => `q.${id}`,
  instance: (id: number) => `i.${id}`,
  lastOwner: (instanceId: number) => `o.${instanceId}`,
  writerLease: (accountId: number) => `w.${accountId}`,
  socketLease: (instanceId: number) => `s.${instanceId}`,
  node: (nodeId: string) => b64(nodeId),
} as const

/** The numeric id after a `<prefix>.` key, or null for another key. */
export function idOf(key: string, prefix: string): number | null {
  if (!key.startsWith(`${prefix}.`)) return null
  const n = Number(key.slice(prefix.length + 1))
  return Number.isSafeInteger(n) && n > 0 ? n : null
}

/** Subjects of node-to-node requests: one per node. */
export const rpcSubject = (nodeId: string) => `sh.rpc.${b64(nodeId)}`
