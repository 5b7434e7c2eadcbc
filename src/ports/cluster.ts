/**
 * @module What the HTTP edge asks of the node it runs on about the cluster: whether it is ready
 * to serve (`/readyz`) and who is in the cluster (`GET /api/admin/cluster`). The embedded hub is a
 * cluster of one node, ready once it serves.
 */
export interface ClusterNodeInfo {
  id: string
  roles: readonly ('worker' | 'edge')[]
  /** Socket leases held. */
  instances: number
  /** Writer leases held. */
  accounts: number
  /** The accounts whose webhooks the node delivers: the accounts it writes, caught up (the embedded hub: every account). */
  webhooks: number
  lastSeenAt: string
}

export interface ClusterView {
  /** Null when ready; otherwise why not, in words. */
  notReady(): string | null
  info(): Promise<{ epoch: string; nodes: ClusterNodeInfo[] }>
}
