/**
 * @module Text the dashboard shows for an instance's fields. Pure; `now` is passed in.
 */
import type { InstanceItem } from '../client/index.js'
import { jidDigits } from '../core/item.js'

export type State = InstanceItem['connection']['state']

export const STATES: readonly State[] = ['connected', 'connecting', 'disconnected', 'loggedout']

export const STATE_LABEL: Record<State, string> = {
  connected: 'connected',
  connecting: 'connecting',
  disconnected: 'disconnected',
  loggedout: 'logged out',
}

/** `59s`, `1m 05s`, `2h 03m`, `3d 4h`; negative spans read as `0s`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${pad(s % 60)}s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h}h ${pad(m % 60)}m`
  return `${Math.floor(h / 24)}d ${h % 24}h`
}

/** `retry in 4s` while a retry is scheduled in the future, `retrying…` once it is due, '' without one. */
export function retryText(retryAt: string | null | undefined, now: number): string {
  if (!retryAt) return ''
  const at = Date.parse(retryAt)
  if (Number.isNaN(at)) return ''
  return at > now ? `retry in ${duration(at - now + 999)}` : 'retrying…'
}

/** How long the instance has been in its state: `for 3m 05s`. */
export function sinceText(since: string | null | undefined, now: number): string {
  if (!since) return ''
  const at = Date.parse(since)
  return Number.isNaN(at) ? '' : `for ${duration(now - at)}`
}

/** Time since the item last changed in any way (state, presence, profile): `changed 4s ago`. */
export function changedText(updatedAt: string | null | undefined, now: number): string {
  if (!updatedAt) return ''
  const at = Date.parse(updatedAt)
  return Number.isNaN(at) ? '' : `changed ${duration(Math.max(0, now - at))} ago`
}

/** `428 connectionClosed: Connection Terminated`; '' when there is no reason. */
export function reasonText(reason: InstanceItem['connection']['reason']): string {
  if (!reason) return ''
  const head = [reason.code ?? '', reason.name].filter((p) => p !== '').join(' ')
  return reason.message ? `${head}: ${reason.message}` : head
}

type Connection = InstanceItem['connection']

/**
 * `syncing…` while connected and the offline backlog has not arrived yet (`synced` false), ''
 * otherwise: a connected number that never syncs is not healthy, and it says so in words.
 */
export function syncText(c: Pick<Connection, 'state' | 'synced'>): string {
  return c.state === 'connected' && c.synced !== true ? 'syncing…' : ''
}

/** The drawer's "Synced": only while connected (the hub resets it on every close). */
export function syncedText(c: Pick<Connection, 'state' | 'synced'>): string {
  if (c.state !== 'connected') return ''
  return c.synced === true ? 'yes, the offline backlog arrived' : 'not yet: syncing… (the offline backlog is still arriving)'
}

/** `45%`, `in progress`, with `(first sync since pairing)` when WhatsApp says so; '' when history sync is off. */
export function historySyncText(h: Connection['historySync'] | undefined): string {
  if (!h) return ''
  const p = typeof h.progress === 'number' ? `${h.progress}%` : 'in progress'
  return h.isLatest ? `${p} (first sync since pairing)` : p
}

/** The reason's tooltip: the reason, the status in words, and the close's own detail. */
export function reasonTitle(c: Pick<Connection, 'reason' | 'displayStatus' | 'closeDetail'>): string {
  const detail = c.closeDetail ? `detail: ${c.closeDetail}` : ''
  return [reasonText(c.reason), c.displayStatus, detail].filter((s) => s !== '').join(' — ')
}

/** `+5511999999999` from a JID, or ''. */
export function phoneText(numberJid: string | null): string {
  const d = jidDigits(numberJid)
  return d === null ? '' : `+${d}`
}

/** Local wall-clock time `14:03:09` of an ISO instant. */
export function clockText(iso: string): string {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? '' : `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

export function countStates(items: Iterable<InstanceItem>): Record<State, number> {
  const out: Record<State, number> = { connected: 0, connecting: 0, disconnected: 0, loggedout: 0 }
  for (const it of items) if (it.connection.state in out) out[it.connection.state]++
  return out
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** A share as a percentage with one decimal (`99.9%`); `100%` only when complete; `–` when unknown. */
export function percentText(share: number | null): string {
  if (share === null || Number.isNaN(share)) return '–'
  if (share >= 1) return '100%'
  if (share <= 0) return '0%'
  return `${(Math.floor(share * 1000) / 10).toFixed(1)}%`
}

/** The clock time of an ISO instant, with its date (`2025-01-01 14:03:09`) when older than a day. */
export function whenText(iso: string, now: number): string {
  const at = Date.parse(iso)
  if (Number.isNaN(at) || now - at < 86_400_000) return clockText(iso)
  const d = new Date(at)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clockText(iso)}`
}
