/**
 * @module Which instances a view shows and in what order: search by name, apiInstanceName, number
 * or profile name; filters by state and by reason; sorts by attention, name or time in state. Pure.
 */
import type { InstanceItem } from '../client/index.js'
import { jidDigits } from '../core/item.js'
import type { Sort, View } from './view-state.js'

export interface Query {
  /** Lower-cased words; every one must occur in the item's text. */
  words: string[]
  /** The digits of a query that reads as a phone number (`+55 11 9…`), else null. */
  digits: string | null
}

export function parseQuery(q: string): Query {
  const text = q.trim().toLowerCase()
  const digits = /^\+?[\d\s().-]+$/.test(text) ? text.replace(/\D/g, '') : ''
  return { words: text.split(/\s+/).filter((w) => w !== ''), digits: digits === '' ? null : digits }
}

/** Items are replaced on every change, so a text computed once per item object stays right. */
const texts = new WeakMap<InstanceItem, string>()

/** The searchable text of an item: names, profile and business name, and the number's digits. */
export function searchText(item: InstanceItem): string {
  let t = texts.get(item)
  if (t === undefined) {
    t = [item.name, item.apiInstanceName, item.profile.name, item.profile.businessName, jidDigits(item.connection.numberJid) ?? '']
      .join('\n')
      .toLowerCase()
    texts.set(item, t)
  }
  return t
}

export function matchesQuery(item: InstanceItem, q: Query): boolean {
  if (q.words.length === 0) return true
  const text = searchText(item)
  if (q.digits !== null) {
    const number = jidDigits(item.connection.numberJid)
    if (number !== null && number.includes(q.digits)) return true
  }
  return q.words.every((w) => text.includes(w))
}

/** A drop that is being retried: connecting with a retry scheduled, or after a close. */
export function isRetrying(item: InstanceItem): boolean {
  const c = item.connection
  return c.state === 'connecting' && (c.retryAt != null || c.reason != null)
}

/** Disconnected, logged out, retrying, then connecting (first link) and connected. */
export function attentionRank(item: InstanceItem): number {
  switch (item.connection.state) {
    case 'disconnected':
      return 0
    case 'loggedout':
      return 1
    case 'connecting':
      return isRetrying(item) ? 2 : 3
    default:
      return 4
  }
}

export function reasonName(item: InstanceItem): string | null {
  return item.connection.reason?.name ?? null
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' })

function byName(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0)
}

function sinceOf(item: InstanceItem): number {
  const t = Date.parse(item.connection.since)
  return Number.isNaN(t) ? 0 : t
}

/** An item with what its order needs, worked out once per selection rather than per comparison. */
interface Keyed {
  name: string
  rank: number
  since: number
}

/**
 * `attention`: by rank, the newest change first within a rank (what just broke leads);
 * `name`: natural order (`n2` before `n10`); `time`: longest in its state first.
 */
function order(sort: Sort): (a: Keyed, b: Keyed) => number {
  switch (sort) {
    case 'attention':
      return (a, b) => a.rank - b.rank || b.since - a.since || byName(a.name, b.name)
    case 'name':
      return (a, b) => byName(a.name, b.name)
    case 'time':
      return (a, b) => a.since - b.since || byName(a.name, b.name)
  }
}

function keyed(item: InstanceItem): Keyed {
  return { name: item.name, rank: attentionRank(item), since: sinceOf(item) }
}

/** The names a view shows, in its order. */
export function select(items: Iterable<InstanceItem>, view: View): string[] {
  const q = parseQuery(view.q)
  const kept: Keyed[] = []
  for (const item of items) {
    if (view.states.size > 0 && !view.states.has(item.connection.state)) continue
    if (view.reasons.size > 0) {
      const r = reasonName(item)
      if (r === null || !view.reasons.has(r)) continue
    }
    if (!matchesQuery(item, q)) continue
    kept.push(keyed(item))
  }
  kept.sort(order(view.sort))
  return kept.map((k) => k.name)
}

/**
 * Whether a change to an item can move it in, out of or within a selection; when it cannot, only
 * its rendered view needs an update.
 */
export function movesSelection(a: InstanceItem, b: InstanceItem): boolean {
  const x = a.connection
  const y = b.connection
  return (
    x.state !== y.state ||
    x.since !== y.since ||
    (x.retryAt == null) !== (y.retryAt == null) ||
    (x.reason == null) !== (y.reason == null) ||
    x.reason?.name !== y.reason?.name ||
    x.numberJid !== y.numberJid ||
    a.name !== b.name ||
    a.apiInstanceName !== b.apiInstanceName ||
    a.profile.name !== b.profile.name ||
    a.profile.businessName !== b.profile.businessName
  )
}

/** Reason names present, with how many instances carry each, in name order (chips that stay put). */
export function countReasons(items: Iterable<InstanceItem>): [string, number][] {
  const counts = new Map<string, number>()
  for (const item of items) {
    const r = reasonName(item)
    if (r !== null) counts.set(r, (counts.get(r) ?? 0) + 1)
  }
  return [...counts].sort((a, b) => byName(a[0], b[0]))
}
