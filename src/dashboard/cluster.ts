/**
 * @module What the admin token reads: the cluster (`GET /api/admin/cluster`: the epoch and the
 * live nodes with the leases each holds; the embedded hub answers with itself, one node), the
 * readiness of the node serving the page (`GET /readyz`: 200, or 503 saying why), and the
 * accounts (`GET /api/admin/accounts`). The admin token reaches no instance: instances are seen
 * with an account's token. Parsing is defensive: a field of the wrong type reads as absent.
 */
import { ApiError, type Api } from './api.js'

export interface ClusterNode {
  id: string
  roles: string[]
  /** Socket leases held: the WhatsApp sockets the node drives. */
  instances: number
  /** Writer leases held: the accounts whose changes the node orders. */
  accounts: number
  lastSeenAt: string
}

export interface Cluster {
  epoch: string
  nodes: ClusterNode[]
}

export interface Account {
  id: number
  name: string
  instanceLimit: number
  instances: number
  createdAt: string
}

/** Ready, or not and why, in the hub's words. */
export type Readiness = { ready: true } | { ready: false; why: string }

export async function fetchCluster(api: Api): Promise<Cluster> {
  const r = await api('GET', '/api/admin/cluster')
  const nodes: ClusterNode[] = []
  for (const v of Array.isArray(r.nodes) ? (r.nodes as unknown[]) : []) {
    if (typeof v !== 'object' || v === null) continue
    const n = v as Record<string, unknown>
    if (typeof n.id !== 'string') continue
    nodes.push({
      id: n.id,
      roles: Array.isArray(n.roles) ? n.roles.filter((x): x is string => typeof x === 'string') : [],
      instances: typeof n.instances === 'number' ? n.instances : 0,
      accounts: typeof n.accounts === 'number' ? n.accounts : 0,
      lastSeenAt: typeof n.lastSeenAt === 'string' ? n.lastSeenAt : '',
    })
  }
  return { epoch: typeof r.epoch === 'string' ? r.epoch : '', nodes }
}

export async function fetchAccounts(api: Api): Promise<Account[]> {
  const r = await api('GET', '/api/admin/accounts')
  const out: Account[] = []
  for (const v of Array.isArray(r.accounts) ? (r.accounts as unknown[]) : []) {
    if (typeof v !== 'object' || v === null) continue
    const a = v as Record<string, unknown>
    if (typeof a.id !== 'number' || typeof a.name !== 'string') continue
    out.push({
      id: a.id,
      name: a.name,
      instanceLimit: typeof a.instanceLimit === 'number' ? a.instanceLimit : 0,
      instances: typeof a.instances === 'number' ? a.instances : 0,
      createdAt: typeof a.createdAt === 'string' ? a.createdAt : '',
    })
  }
  return out
}

export async function fetchReadiness(api: Api): Promise<Readiness> {
  try {
    await api('GET', '/readyz')
    return { ready: true }
  } catch (err) {
    return { ready: false, why: err instanceof ApiError ? err.message : String(err) }
  }
}

/** `ready`, or `not ready: <why>`. */
export function readinessText(r: Readiness): string {
  return r.ready ? 'ready' : `not ready: ${r.why}`
}

/** `worker, edge`; a node with neither role serves HTTP and streams only. */
export function rolesText(roles: readonly string[]): string {
  return roles.length === 0 ? 'none' : roles.join(', ')
}
