/**
 * @module The two list-item shapes (RyzeAPI and Wachat) rendered from one instance record, and
 * the field-level diff between two RyzeAPI items. Both views are renderers of the same record,
 * never second sources of truth.
 */
import {
  chatwootSummary,
  defaultWebhook,
  proxySummary,
  s3Summary,
  settingsSummary,
  webhookSummary,
  websocketSummary,
  type InstanceConfig,
  webhookOf,
} from './integrations.js'
import type { InstanceStatus } from './status.js'

/** The hub's in-memory record of one instance; the snapshot is a map of these. */
export interface InstanceRecord {
  id: number
  accountId: number
  name: string
  apiInstanceName: string
  createdAt: string
  updatedAt: string
  /** Grows by one with every change to the rendered item. */
  version: number
  status: InstanceStatus
  config: InstanceConfig
}

export type RyzeItem = ReturnType<typeof renderRyzeItem>

export function renderRyzeItem(r: InstanceRecord) {
  const s = r.status
  return {
    id: r.id,
    name: r.name,
    apiInstanceName: r.apiInstanceName,
    status: s.state,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    version: r.version,
    connection: {
      state: s.state,
      numberJid: s.numberJid,
      presenceStatus: s.presenceStatus,
      displayStatus: s.displayStatus,
      since: s.since,
      reason: s.reason,
      retryAt: s.retryAt,
      synced: s.synced,
      historySync: s.historySync,
      closeDetail: s.closeDetail,
    },
    profile: { ...s.profile },
    webhook: webhookSummary(webhookOf(r.config, 'default') ?? defaultWebhook()),
    websocket: websocketSummary(r.config.websocket),
    chatwoot: chatwootSummary(r.config.chatwoot),
    proxy: proxySummary(r.config.proxy),
    settings: settingsSummary(r.config.settings),
    s3: s3Summary(r.config.s3),
  }
}

/** Digits of the phone number in a JID (`5511999:12@s.whatsapp.net` → `5511999`), or null. */
export function jidDigits(jid: string | null): string | null {
  if (!jid) return null
  const user = jid.split('@')[0]!.split(':')[0]!
  return /^\d+$/.test(user) ? user : null
}

export function wachatState(state: InstanceStatus['state']): 'open' | 'connecting' | 'close' {
  if (state === 'connected') return 'open'
  if (state === 'connecting') return 'connecting'
  return 'close'
}

export function renderWachatItem(r: InstanceRecord) {
  const s = r.status
  const state = wachatState(s.state)
  const number = jidDigits(s.numberJid)
  return {
    id: r.id,
    instanceName: r.name,
    displayName: r.name,
    apiInstanceName: r.apiInstanceName,
    internalName: r.apiInstanceName,
    state,
    status: state,
    isConnected: state === 'open',
    number,
    profileName: s.profile.name === '' ? null : s.profile.name,
    profilePictureUrl: s.profile.pictureUrl,
    profilePicUrl: s.profile.pictureUrl,
    owner: number === null ? null : `${number}@s.whatsapp.net`,
    integration: 'WHATSAPP-BAILEYS',
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  }
}

/**
 * Field-level changes between two items, as dotted paths of the item. Top-level groups
 * (`connection`, `profile`, the integration blocks) are compared one level deep; anything deeper
 * (`connection.reason`, arrays) is replaced whole, so a client applies each path with one assignment.
 */
export function diffItems(prev: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const changes: Record<string, unknown> = {}
  for (const key of Object.keys(next)) {
    const a = prev[key]
    const b = next[key]
    if (isGroup(a) && isGroup(b)) {
      for (const sub of Object.keys(b)) {
        if (!sameValue(a[sub], b[sub])) changes[`${key}.${sub}`] = b[sub]
      }
    } else if (!sameValue(a, b)) {
      changes[key] = b
    }
  }
  return changes
}

function isGroup(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  return JSON.stringify(a) === JSON.stringify(b)
}

/** Applies a diff's `changes` to an item in place (the client mirror and the tests use it). */
export function applyChanges(item: Record<string, unknown>, changes: Record<string, unknown>): void {
  for (const [path, value] of Object.entries(changes)) {
    const dot = path.indexOf('.')
    if (dot < 0) {
      item[path] = value
      continue
    }
    const head = path.slice(0, dot)
    const group = isGroup(item[head]) ? (item[head] as Record<string, unknown>) : (item[head] = {} as Record<string, unknown>)
    ;(group as Record<string, unknown>)[path.slice(dot + 1)] = value
  }
}
