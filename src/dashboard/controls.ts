/**
 * @module The view's controls: the search box (filtering as one types; `/` focuses it), the
 * state chips (the header's counts, pressed to filter), the reason chips, the sort, cards or
 * table, how many are shown, and clearing the filters. They report what the operator changed and
 * show whatever view they are given; they hold no view of their own.
 */
import { el, setText } from './dom.js'
import { STATES, type State } from './format.js'
import { isFiltered, MODES, SORTS, toggled, type Mode, type Sort, type View } from './view-state.js'

export interface ControlElements {
  /** The header's state counts: `button[data-chip=state][data-state]` each with a `[data-count]`. */
  states: HTMLElement
  /** The reason chips (`button[data-chip=reason][data-reason]`), and what is hidden while there are none. */
  reasons: HTMLElement
  reasonBar: HTMLElement
  search: HTMLInputElement
  sort: HTMLSelectElement
  modes: HTMLElement
  shown: HTMLElement
  clear: HTMLButtonElement
}

const number = new Intl.NumberFormat('en-US')

export class Controls {
  private view: View | null = null
  /** The controls are the page's, the listeners this session's: they go with `dispose`. */
  private readonly listening = new AbortController()
  private readonly reasonChips = new Map<string, { li: HTMLElement; count: HTMLElement }>()

  constructor(
    private readonly e: ControlElements,
    private readonly change: (patch: Partial<View>) => void,
  ) {
    const signal = this.listening.signal
    const on = <K extends keyof HTMLElementEventMap>(target: HTMLElement | Document, type: K, fn: (ev: HTMLElementEventMap[K]) => void) =>
      target.addEventListener(type, fn as EventListener, { signal })
    on(e.search, 'input', () => change({ q: e.search.value }))
    on(e.search, 'keydown', (ev) => {
      if (ev.key === 'Escape' && e.search.value !== '') {
        ev.preventDefault()
        e.search.value = ''
        change({ q: '' })
      }
    })
    on(e.sort, 'change', () => {
      if ((SORTS as readonly string[]).includes(e.sort.value)) change({ sort: e.sort.value as Sort })
    })
    on(e.modes, 'click', (ev) => {
      const mode = (ev.target as HTMLElement).closest<HTMLElement>('[data-mode]')?.dataset.mode
      if (mode !== undefined && (MODES as readonly string[]).includes(mode)) change({ mode: mode as Mode })
    })
    on(e.states, 'click', (ev) => {
      const s = (ev.target as HTMLElement).closest<HTMLElement>('[data-chip=state]')?.dataset.state as State | undefined
      if (s !== undefined && this.view !== null) change({ states: toggled(this.view.states, s) })
    })
    on(e.reasons, 'click', (ev) => {
      const r = (ev.target as HTMLElement).closest<HTMLElement>('[data-chip=reason]')?.dataset.reason
      if (r !== undefined && this.view !== null) change({ reasons: toggled(this.view.reasons, r) })
    })
    on(e.clear, 'click', () => {
      e.search.value = ''
      change({ q: '', states: new Set(), reasons: new Set() })
      e.search.focus()
    })
    on(document, 'keydown', (ev) => {
      const t = ev.target as HTMLElement
      if (ev.key !== '/' || ev.ctrlKey || ev.metaKey || ev.altKey || t.closest('input, textarea, select, [contenteditable]') !== null) return
      if (e.search.offsetParent === null) return
      ev.preventDefault()
      e.search.focus()
      e.search.select()
    })
  }

  dispose(): void {
    this.listening.abort()
    for (const { li } of this.reasonChips.values()) li.remove()
    this.reasonChips.clear()
  }

  /** Shows `view` in the controls; the search box is left alone while it has what the view says. */
  show(view: View): void {
    this.view = view
    const e = this.e
    if (e.search.value !== view.q) e.search.value = view.q
    if (e.sort.value !== view.sort) e.sort.value = view.sort
    for (const b of e.modes.querySelectorAll<HTMLElement>('[data-mode]')) b.setAttribute('aria-pressed', String(b.dataset.mode === view.mode))
    for (const b of e.states.querySelectorAll<HTMLElement>('[data-chip=state]')) {
      b.setAttribute('aria-pressed', String(view.states.has(b.dataset.state as State)))
    }
    for (const b of e.reasons.querySelectorAll<HTMLElement>('[data-chip=reason]')) b.setAttribute('aria-pressed', String(view.reasons.has(b.dataset.reason!)))
    e.clear.hidden = !isFiltered(view)
  }

  /** The counts: per state, per reason (chips for the reasons present, and any chosen), and shown of total. */
  counts(states: Record<State, number>, reasons: readonly [string, number][], shown: number, total: number): void {
    const e = this.e
    for (const s of STATES) {
      const b = e.states.querySelector<HTMLElement>(`[data-count="${s}"]`)
      if (b) setText(b, number.format(states[s]))
    }
    const chosen = this.view?.reasons ?? new Set<string>()
    const list: [string, number][] = [...reasons]
    for (const r of chosen) if (!list.some(([n]) => n === r)) list.push([r, 0])
    // Chips are kept and moved, never rebuilt: a focused chip keeps the focus while counts change.
    const keep = new Set(list.map(([r]) => r))
    for (const [r, chip] of this.reasonChips) {
      if (keep.has(r)) continue
      chip.li.remove()
      this.reasonChips.delete(r)
    }
    let ref = e.reasons.firstElementChild
    for (const [reason, count] of list) {
      let chip = this.reasonChips.get(reason)
      if (chip === undefined) {
        chip = reasonChip(reason, chosen.has(reason))
        this.reasonChips.set(reason, chip)
      }
      setText(chip.count, number.format(count))
      if (chip.li === ref) ref = ref.nextElementSibling
      else e.reasons.insertBefore(chip.li, ref)
    }
    e.reasonBar.hidden = list.length === 0
    const all = number.format(total)
    setText(e.shown, shown === total ? `${all} instance${total === 1 ? '' : 's'}` : `Showing ${number.format(shown)} of ${all}`)
  }
}

function reasonChip(reason: string, pressed: boolean): { li: HTMLElement; count: HTMLElement } {
  const li = el('li')
  const b = el('button', 'chip')
  b.type = 'button'
  b.dataset.chip = 'reason'
  b.dataset.reason = reason
  b.setAttribute('aria-pressed', String(pressed))
  const count = el('b')
  b.append(count, ` ${reason}`)
  li.append(b)
  return { li, count }
}
