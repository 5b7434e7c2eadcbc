/**
 * @module What the operator is looking at (search, filters, sort, cards or table, the open
 * drawer) and its place in the URL fragment, so a view can be bookmarked and shared:
 * `#q=sales&state=disconnected,loggedout&reason=connectionClosed&sort=name&view=table&open=sales`.
 * Defaults are left out, so the default view is the bare URL. The token is never part of it. Pure.
 */
import { STATES, type State } from './format.js'

export type Sort = 'attention' | 'name' | 'time'
export type Mode = 'cards' | 'table'

export const SORTS: readonly Sort[] = ['attention', 'name', 'time']
export const MODES: readonly Mode[] = ['cards', 'table']

export interface View {
  /** Search text as typed. */
  q: string
  /** States shown; empty shows every state. */
  states: ReadonlySet<State>
  /** `connection.reason.name`s shown; empty shows every reason (and none). */
  reasons: ReadonlySet<string>
  sort: Sort
  mode: Mode
  /** The instance whose drawer is open. */
  open: string | null
}

export const DEFAULT_VIEW: View = { q: '', states: new Set(), reasons: new Set(), sort: 'attention', mode: 'cards', open: null }

/** Reads a fragment (with or without `#`); unknown keys and values are ignored. */
export function parseView(hash: string): View {
  const raw = new Map<string, string>()
  for (const pair of (hash.startsWith('#') ? hash.slice(1) : hash).split('&')) {
    const eq = pair.indexOf('=')
    if (eq > 0) raw.set(pair.slice(0, eq), pair.slice(eq + 1))
  }
  const one = (key: string) => {
    const v = raw.get(key)
    return v === undefined ? null : decode(v)
  }
  // Lists are split before decoding: a comma inside an element is escaped, the separators are not.
  const list = (key: string) => (raw.get(key) ?? '').split(',').map(decode).filter((s) => s !== '')
  const sort = one('sort') as Sort | null
  const mode = one('view') as Mode | null
  const open = one('open')
  return {
    q: one('q') ?? '',
    states: new Set(list('state').filter((s): s is State => (STATES as readonly string[]).includes(s))),
    reasons: new Set(list('reason')),
    sort: sort !== null && SORTS.includes(sort) ? sort : DEFAULT_VIEW.sort,
    mode: mode !== null && MODES.includes(mode) ? mode : DEFAULT_VIEW.mode,
    open: open === null || open === '' ? null : open,
  }
}

/** The fragment for a view, `#…` with keys in a fixed order, or '' for the default view. */
export function viewHash(v: View): string {
  const parts: string[] = []
  if (v.q !== '') parts.push(`q=${encode(v.q)}`)
  if (v.states.size > 0) parts.push(`state=${STATES.filter((s) => v.states.has(s)).join(',')}`)
  if (v.reasons.size > 0) parts.push(`reason=${[...v.reasons].sort().map(encode).join(',')}`)
  if (v.sort !== DEFAULT_VIEW.sort) parts.push(`sort=${v.sort}`)
  if (v.mode !== DEFAULT_VIEW.mode) parts.push(`view=${v.mode}`)
  if (v.open !== null) parts.push(`open=${encode(v.open)}`)
  return parts.length === 0 ? '' : `#${parts.join('&')}`
}

/** Form-style: a space is `+`, a plus `%2B`, a comma `%2C`. */
function encode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+')
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return ''
  }
}

/** Whether the view hides anything (a search or a filter). */
export function isFiltered(v: View): boolean {
  return v.q.trim() !== '' || v.states.size > 0 || v.reasons.size > 0
}

/** A copy with `value` added to or removed from a set-valued field. */
export function toggled<T>(set: ReadonlySet<T>, value: T): Set<T> {
  const next = new Set(set)
  if (!next.delete(value)) next.add(value)
  return next
}
