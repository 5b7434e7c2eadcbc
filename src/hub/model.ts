/**
 * @module The hub's in-memory model: accounts with their instances and stream position, and who a
 * token belongs to. Only the Hub mutates these. Everything outside the hub sees them through the
 * read-only views, for the length of one call: nothing outside keeps one (edges keep ids, and learn
 * of changes from the change bus).
 */
import type { InstanceConfig } from '../core/integrations.js'
import type { InstanceRecord, RyzeItem } from '../core/item.js'
import type { InstanceStatus } from '../core/status.js'
import type { ChangeRing } from './change-ring.js'

export interface LiveInstance extends InstanceRecord {
  tokenHash: string
  /** The rendered RyzeAPI item, kept to diff against on the next change. */
  item: RyzeItem
  /** Serialised items, valid while their `version` equals the record's. */
  ryzeJson: { version: number; bytes: Buffer } | null
  wachatJson: { version: number; bytes: Buffer } | null
}

/**
 * An instance's whole state, as a change carries it to a follower and the store keeps it. Holds
 * the token hash and the config with its secrets: never for an edge.
 */
export interface InstanceState {
  id: number
  accountId: number
  name: string
  apiInstanceName: string
  tokenHash: string
  createdAt: string
  updatedAt: string
  version: number
  status: InstanceStatus
  config: InstanceConfig
}

export function stateOf(i: LiveInstance): InstanceState {
  return {
    id: i.id,
    accountId: i.accountId,
    name: i.name,
    apiInstanceName: i.apiInstanceName,
    tokenHash: i.tokenHash,
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
    version: i.version,
    status: i.status,
    config: i.config,
  }
}

export interface AccountState {
  id: number
  name: string
  instanceLimit: number
  tokenHash: string
  createdAt: string
  /** Last seq of this account's stream; 0 = nothing happened yet. */
  seq: number
  /** Durably reserved: every seq up to this may be shown (a crash restart starts above it). */
  seqReserved: number
  /** Instance ids in ascending order (the list order). */
  ids: number[]
  byName: Map<string, LiveInstance>
  ring: ChangeRing
}

export interface InstanceView {
  readonly id: number
  readonly accountId: number
  readonly name: string
  readonly apiInstanceName: string
  readonly createdAt: string
  readonly updatedAt: string
  readonly version: number
  readonly status: Readonly<InstanceStatus>
  readonly config: Readonly<InstanceConfig>
  readonly item: Readonly<RyzeItem>
}

export interface AccountView {
  readonly id: number
  readonly name: string
  readonly instanceLimit: number
  readonly createdAt: string
  /** Last seq of the account's stream. */
  readonly seq: number
  /** Instance ids in list order. */
  readonly ids: readonly number[]
}

/** Who a token belongs to: plain data, safe to keep for a socket's life (the hub revokes it). */
export type Principal =
  | { readonly kind: 'admin'; readonly tokenHash: string }
  | { readonly kind: 'account'; readonly tokenHash: string; readonly accountId: number }
  | { readonly kind: 'instance'; readonly tokenHash: string; readonly accountId: number; readonly instanceId: number }

export type TenantPrincipal = Exclude<Principal, { kind: 'admin' }>
