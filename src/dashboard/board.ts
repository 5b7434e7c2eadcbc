/**
 * @module The board: the mirror filtered and sorted by the view, shown as a virtualised card grid
 * or table, rendered in batches (at most once per animation frame, only the views that changed),
 * the counts, and the drawer of one instance. A change that cannot move an instance in the order
 * or the filter updates its view alone; one that can selects the list again.
 */
import type { ChangeBatch, ClientEvent, InstanceItem, StatusClient } from '../client/index.js'
import type { Api } from './api.js'
import { Card } from './card.js'
import { Controls, type ControlElements } from './controls.js'
import { el } from './dom.js'
import { Drawer, type DrawerContext, type Notify } from './drawer.js'
import { ActionsSection } from './drawer-actions.js'
import { HistorySection } from './drawer-history.js'
import { SummarySection } from './drawer-summary.js'
import { WebhooksSection } from './drawer-webhooks.js'
import { countStates } from './format.js'
import { countReasons, movesSelection, select } from './query.js'
import { COLUMNS, Row } from './row.js'
import { Timelines } from './timeline.js'
import type { Mode, View } from './view-state.js'
import { VirtualList } from './virtual-list.js'

export type { Notify } from './drawer.js'

/** Narrowest card column; the grid fits as many as the width allows. */
const CARD_MIN_REM = 19
/** Rows rendered beyond the viewport on each side. */
const OVERSCAN_ROWS = { cards: 2, table: 8 } as const
/** The strips redraw this often (in ticks of a second) as the clock moves on. */
const STRIP_TICKS = 30

/** What the list shows per instance: a card or a table row. */
type Shown = Card | Row

export interface BoardElements {
  /** The scrolling viewport the list is built in. */
  viewport: HTMLElement
  /** Where the drawer goes. */
  drawerSlot: HTMLElement
  controls: ControlElements
}

export class Board {
  private view: View
  private names: string[] = []
  private list: VirtualList<Shown> | null = null
  private mode: Mode | null = null
  private table: HTMLElement | null = null
  /** Each instance's item as it was when the list was last selected or its view updated. */
  private known = new Map<string, InstanceItem>()
  private readonly timelines = new Timelines()
  private readonly timelineDirty = new Set<string>()
  private readonly drawer: Drawer
  private readonly controls: Controls
  private readonly ticker: ReturnType<typeof setInterval>
  private ticks = 0
  private simulated = false
  /** Batches rendered so far; published as the viewport's `data-renders` for tests and debugging. */
  private renders = 0
  private loaded = false
  private readonly listening = new AbortController()

  constructor(
    private readonly els: BoardElements,
    private readonly client: StatusClient,
    api: Api,
    notify: Notify,
    view: View,
    /** The board changed the view (a control, a click, a deleted instance); the URL follows. */
    private readonly onView: (v: View) => void,
  ) {
    this.view = view
    const ctx: DrawerContext = {
      api,
      notify,
      transitions: (name) => this.timelines.of(name),
      simulated: () => this.simulated,
    }
    this.drawer = new Drawer([new SummarySection(), new HistorySection(ctx), new WebhooksSection(ctx), new ActionsSection(ctx)], (name) => this.dismissed(name))
    els.drawerSlot.replaceChildren(this.drawer.el)
    this.controls = new Controls(els.controls, (patch) => this.change(patch, true))
    this.controls.show(view)
    client.on('diff', (e) => this.onDiff(e))
    client.onChange((b) => this.render(b))
    els.viewport.addEventListener('click', (e) => this.onClick(e), { signal: this.listening.signal })
    els.viewport.addEventListener('keydown', (e) => this.onKey(e), { signal: this.listening.signal })
    this.mount(view.mode)
    this.ticker = setInterval(() => this.tick(), 1000)
  }

  dispose(): void {
    clearInterval(this.ticker)
    this.listening.abort()
    this.controls.dispose()
    this.drawer.close()
    this.list?.dispose()
    this.list = null
    this.els.viewport.replaceChildren()
    this.els.drawerSlot.replaceChildren()
  }

  /** The hub runs simulated sockets: the drawer offers the simulator's actions. */
  setSimulated(on: boolean): void {
    this.simulated = on
    this.refreshDrawer()
  }

  /** Shows `view` (from the URL); the URL is not written back. */
  setView(view: View): void {
    this.apply(view, false)
  }

  private change(patch: Partial<View>, focus: boolean): void {
    this.apply({ ...this.view, ...patch }, focus)
    // Applying may change the view again (an `open` naming no instance is dropped): the newest goes out.
    this.onView(this.view)
  }

  private apply(next: View, focus: boolean): void {
    const prev = this.view
    this.view = next
    this.controls.show(next)
    if (next.mode !== prev.mode) this.mount(next.mode)
    else if (next.q !== prev.q || next.sort !== prev.sort || !sameSet(next.states, prev.states) || !sameSet(next.reasons, prev.reasons)) {
      this.els.viewport.scrollTop = 0
      this.reselect()
    }
    if (next.sort !== prev.sort) this.headerSort()
    if (next.open !== this.drawer.name) this.openDrawer(focus)
  }

  // ---- the list -------------------------------------------------------------------------------

  /** Builds the cards feed or the table in the viewport. */
  private mount(mode: Mode): void {
    this.list?.dispose()
    this.mode = mode
    const vp = this.els.viewport
    vp.dataset.mode = mode
    vp.scrollTop = 0
    const sizer = el('div', 'sizer')
    const win = el('div', `window ${mode}-window`)
    sizer.append(win)
    if (mode === 'cards') {
      const feed = el('div', 'feed')
      feed.setAttribute('role', 'feed')
      feed.setAttribute('aria-label', 'Instances')
      feed.append(sizer)
      vp.replaceChildren(feed)
      this.table = null
    } else {
      const table = el('div', 'table')
      table.setAttribute('role', 'table')
      table.setAttribute('aria-label', 'Instances')
      const head = el('div', 'thead')
      head.setAttribute('role', 'rowgroup')
      const tr = el('div', 'row head')
      tr.setAttribute('role', 'row')
      tr.setAttribute('aria-rowindex', '1')
      for (const c of COLUMNS) {
        const th = el('div', `cell c-${c.key}`, c.label)
        th.setAttribute('role', 'columnheader')
        th.dataset.column = c.key
        tr.append(th)
      }
      head.append(tr)
      win.setAttribute('role', 'rowgroup')
      table.append(head, sizer)
      vp.replaceChildren(table)
      this.table = table
      this.headerSort()
    }
    this.list = new VirtualList<Shown>({
      viewport: vp,
      sizer,
      window: win,
      minColumnRem: mode === 'cards' ? CARD_MIN_REM : null,
      overscanRows: OVERSCAN_ROWS[mode],
      estimateRowPx: mode === 'cards' ? 240 : 40,
      create: (name) => this.create(name),
      place: (v, _name, index, total) => v.place(index, total),
      drop: () => {},
    })
    this.reselect()
  }

  private create(name: string): Shown {
    const now = Date.now()
    const v = this.mode === 'cards' ? new Card(name) : new Row(name)
    const item = this.client.mirror.get(name)
    if (item !== undefined) {
      v.update(item, now)
      v.renderTimeline(this.timelines.of(name), now)
    }
    v.focusTarget.setAttribute('aria-expanded', String(this.view.open === name))
    return v
  }

  private reselect(): void {
    this.names = select(this.client.mirror.values(), this.view)
    this.table?.setAttribute('aria-rowcount', String(this.names.length + 1))
    this.list?.setNames(this.names)
    this.renderCounts()
  }

  /** The table's sorted column says so (aria-sort); the attention order is no column's. */
  private headerSort(): void {
    if (this.table === null) return
    for (const th of this.table.querySelectorAll<HTMLElement>('[role=columnheader]')) {
      const sorted = (this.view.sort === 'name' && th.dataset.column === 'name') || (this.view.sort === 'time' && th.dataset.column === 'since')
      if (sorted) th.setAttribute('aria-sort', this.view.sort === 'name' ? 'ascending' : 'descending')
      else th.removeAttribute('aria-sort')
    }
  }

  // ---- batches --------------------------------------------------------------------------------

  private onDiff(e: Extract<ClientEvent, { type: 'diff' }>): void {
    if (this.timelines.record(e.previous, e.item, e.at, e.seq)) this.timelineDirty.add(e.name)
  }

  private render(b: ChangeBatch): void {
    const now = Date.now()
    const mirror = this.client.mirror
    let reselect = b.reset
    const changed: string[] = []
    if (b.reset) {
      for (const name of this.known.keys()) if (!mirror.has(name)) this.timelines.forget(name)
      for (const [name, item] of mirror) {
        const prev = this.known.get(name)
        // A resume that could not be served: what changed meanwhile is one transition at its `since`.
        if (prev !== undefined && prev !== item && this.timelines.record(prev, item, item.updatedAt)) this.timelineDirty.add(name)
        this.timelines.seed(item)
      }
      this.known = new Map(mirror)
    } else {
      for (const name of b.removed) {
        if (this.known.delete(name)) reselect = true
        this.timelines.forget(name)
        this.timelineDirty.delete(name)
      }
      for (const name of b.upserted) {
        const item = mirror.get(name)
        if (item === undefined) continue
        const prev = this.known.get(name)
        if (prev === undefined) {
          this.timelines.seed(item)
          reselect = true
        } else if (movesSelection(prev, item)) reselect = true
        this.known.set(name, item)
        changed.push(name)
      }
    }
    if (reselect) this.reselect()
    const rendered = this.list?.rendered()
    if (rendered !== undefined) {
      // After a reset any rendered view may be stale; otherwise only the changed ones are.
      for (const name of b.reset ? rendered.keys() : changed) {
        const v = rendered.get(name)
        const item = mirror.get(name)
        if (v !== undefined && item !== undefined && v.item !== item) v.update(item, now)
      }
      for (const name of this.timelineDirty) rendered.get(name)?.renderTimeline(this.timelines.of(name), now)
    }
    const open = this.drawer.name
    if (open !== null && (b.reset || b.upserted.has(open) || b.removed.has(open) || this.timelineDirty.has(open))) this.refreshDrawer()
    this.timelineDirty.clear()
    if (!reselect) this.renderCounts()
    if (b.reset && !this.loaded) {
      this.loaded = true
      if (this.view.open !== null) this.openDrawer(false)
    }
    this.els.viewport.dataset.renders = String(++this.renders)
  }

  private renderCounts(): void {
    const mirror = this.client.mirror
    this.controls.counts(countStates(mirror.values()), countReasons(mirror.values()), this.names.length, mirror.size)
  }

  private tick(): void {
    const now = Date.now()
    const strips = ++this.ticks % STRIP_TICKS === 0
    for (const [name, v] of this.list?.rendered() ?? []) {
      v.tick(now)
      if (strips) v.renderTimeline(this.timelines.of(name), now)
    }
    this.drawer.tick(now)
  }

  // ---- the drawer -----------------------------------------------------------------------------

  private openDrawer(focus: boolean): void {
    const name = this.view.open
    const item = name === null ? undefined : this.client.mirror.get(name)
    for (const v of this.list?.rendered().values() ?? []) v.focusTarget.setAttribute('aria-expanded', String(v.item?.name === name && item !== undefined))
    if (item === undefined) {
      // Deleted from its own drawer: the focus waits on the list rather than falling to the page.
      const focused = this.drawer.el.contains(document.activeElement)
      this.drawer.close()
      if (focused) this.els.viewport.focus()
      // An instance named by the URL that the hub does not have: the URL forgets it once the list is known.
      if (name !== null && this.loaded) this.change({ open: null }, false)
      return
    }
    this.drawer.show(item, focus, Date.now())
  }

  private refreshDrawer(): void {
    const name = this.drawer.name
    if (name === null) return
    const item = this.client.mirror.get(name)
    if (item === undefined) {
      this.change({ open: null }, false)
      return
    }
    this.drawer.update(item, Date.now())
  }

  /** The operator closed the drawer: the focus goes back to the instance it showed. */
  private dismissed(name: string): void {
    this.change({ open: null }, false)
    const list = this.list
    if (list === null) return
    const v = list.rendered().get(name)
    if (v !== undefined) v.focusTarget.focus()
    else if (list.indexOf(name) >= 0) list.focusIndex(list.indexOf(name))
    else this.els.viewport.focus()
  }

  // ---- input ----------------------------------------------------------------------------------

  private onClick(e: MouseEvent): void {
    const target = (e.target as HTMLElement).closest<HTMLElement>('[data-action=open]')
    const name = target?.closest<HTMLElement>('[data-name]')?.dataset.name
    if (target === null || name === undefined) return
    if (this.view.open === name) this.drawer.show(this.client.mirror.get(name)!, true, Date.now())
    else this.change({ open: name }, true)
  }

  /** Arrow keys, Home/End and Page Up/Down move the focus through the whole list, not only what is rendered. */
  private onKey(e: KeyboardEvent): void {
    const list = this.list
    if (list === null || e.altKey || e.ctrlKey || e.metaKey) return
    const name = (e.target as HTMLElement).closest<HTMLElement>('[data-name]')?.dataset.name
    const at = name === undefined ? -1 : list.indexOf(name)
    const cols = list.columnCount
    // From the viewport itself (the focus waits there after its row scrolled away): the first item in view.
    const from = at >= 0 ? at : list.firstVisible()
    let to: number
    switch (e.key) {
      case 'ArrowDown':
        to = at < 0 ? from : from + cols
        break
      case 'ArrowUp':
        to = at < 0 ? from : from - cols
        break
      case 'ArrowRight':
        if (cols === 1) return
        to = from + 1
        break
      case 'ArrowLeft':
        if (cols === 1) return
        to = from - 1
        break
      case 'Home':
        to = 0
        break
      case 'End':
        to = list.count - 1
        break
      case 'PageDown':
        to = from + list.pageItems()
        break
      case 'PageUp':
        to = from - list.pageItems()
        break
      default:
        return
    }
    e.preventDefault()
    list.focusIndex(to)
  }
}

function sameSet<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x))
}
