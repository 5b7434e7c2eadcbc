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
  const p = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash)
  const list = (key: string) => (p.get(key) ?? '').split(',').filter((s) => s !== '')
  const sort = p.get('sort') as Sort | null
  const mode = p.get('view') as Mode | null
  const open = p.get('open')
  return {
    q: p.get('q') ?? '',
    states: new Set(list('state').filter((s): s is State => (STATES as readonly string[]).includes(s))),
    reasons: new Set(list('reason')),
    sort: sort !== null && SORTS.includes(sort) ? sort : DEFAULT_VIEW.sort,
    mode: mode !== null && MODES.includes(mode) ? mode : DEFAULT_VIEW.mode,
    open: open === null || open === '' ? null : open,
  }
}

/** The fragment for a view, `#…` with keys in a fixed order, or '' for the default view. */
export function viewHash(v: View): string {
  const p = new URLSearchParams()
  if (v.q !== '') p.set('q', v.q)
  if (v.states.size > 0) p.set('state', STATES.filter((s) => v.states.has(s)).join(','))
  if (v.reasons.size > 0) p.set('reason', [...v.reasons].sort().join(','))
  if (v.sort !== DEFAULT_VIEW.sort) p.set('sort', v.sort)
  if (v.mode !== DEFAULT_VIEW.mode) p.set('view', v.mode)
  if (v.open !== null) p.set('open', v.open)
  const s = p.toString()
  return s === '' ? '' : `#${s}`
}

export function sameView(a: View, b: View): boolean {
  return viewHash(a) === viewHash(b)
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
