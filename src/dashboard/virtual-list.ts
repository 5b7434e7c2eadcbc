/**
 * @module A virtualised list of fixed-height rows in a scrolling viewport: only the rows in view
 * (and `overscanRows` either side) exist in the DOM, so 10,000 instances cost what a screenful
 * does. A row holds one item (the table) or as many as fit (the card grid). Views are keyed by
 * instance name: a view that stays in the window is kept and updated, never rebuilt.
 */

export interface Range {
  /** First item index rendered. */
  start: number
  /** One past the last item index rendered. */
  end: number
  /** The row of `start`; the window is translated by it. */
  firstRow: number
  rows: number
}

/**
 * The items to render for a scroll position. `offset`: where the rows start inside the
 * viewport's content (below a sticky header). Pure.
 */
export function rangeOf(scrollTop: number, height: number, offset: number, count: number, rowPx: number, columns: number, overscanRows: number): Range {
  const rows = Math.ceil(count / columns)
  const top = Math.max(0, scrollTop - offset)
  const firstRow = Math.min(rows, Math.max(0, Math.floor(top / rowPx) - overscanRows))
  const lastRow = Math.min(rows, Math.ceil((top + height) / rowPx) + overscanRows)
  return { start: firstRow * columns, end: Math.min(count, lastRow * columns), firstRow, rows }
}

/** How many columns of at least `minPx` (with `gapPx` between them) fit in `widthPx`; at least one. */
export function columnsFor(widthPx: number, minPx: number, gapPx: number): number {
  return Math.max(1, Math.floor((widthPx + gapPx) / (minPx + gapPx)))
}

export interface ItemView {
  readonly el: HTMLElement
  /** What takes the focus when the keyboard moves to this item. */
  readonly focusTarget: HTMLElement
}

export interface VirtualListOptions<V extends ItemView> {
  /** The scrolling element. */
  viewport: HTMLElement
  /** Sized to the full list, so the scrollbar is the list's. */
  sizer: HTMLElement
  /** Holds the rendered views, moved down to the first rendered row. */
  window: HTMLElement
  /** Narrowest column in rem (a grid); null for one column (a table). */
  minColumnRem: number | null
  overscanRows: number
  /** Row height before one is measured. */
  estimateRowPx: number
  create(name: string): V
  /** A view was created for `name` or its index changed. */
  place(view: V, name: string, index: number, total: number): void
  /** A view left the window and the DOM. */
  drop(view: V, name: string): void
}

export class VirtualList<V extends ItemView> {
  private names: readonly string[] = []
  private readonly views = new Map<string, V>()
  private readonly placed = new Map<string, number>()
  private placedTotal = -1
  private rowPx: number
  private columns = 1
  private measured = false
  private frame: number | null = null
  private readonly resize: ResizeObserver
  private readonly onScroll = () => this.later()

  constructor(private readonly o: VirtualListOptions<V>) {
    this.rowPx = o.estimateRowPx
    o.viewport.addEventListener('scroll', this.onScroll, { passive: true })
    this.resize = new ResizeObserver(() => {
      this.measured = false
      this.later()
    })
    this.resize.observe(o.viewport)
  }

  dispose(): void {
    if (this.frame !== null) cancelAnimationFrame(this.frame)
    this.o.viewport.removeEventListener('scroll', this.onScroll)
    this.resize.disconnect()
    for (const [name, v] of this.views) this.o.drop(v, name)
    this.views.clear()
    this.placed.clear()
    this.o.window.replaceChildren()
  }

  get count(): number {
    return this.names.length
  }

  get columnCount(): number {
    return this.columns
  }

  /** The rendered views by name. */
  rendered(): ReadonlyMap<string, V> {
    return this.views
  }

  /** Index of the first item in view. */
  firstVisible(): number {
    const top = Math.max(0, this.o.viewport.scrollTop - this.o.sizer.offsetTop)
    return Math.min(this.names.length, Math.ceil(top / this.rowPx) * this.columns)
  }

  indexOf(name: string): number {
    return this.names.indexOf(name)
  }

  /** Replaces the list (a new filter or order) and renders now. */
  setNames(names: readonly string[]): void {
    this.names = names
    this.render()
  }

  /** Scrolls the item at `index` into view, renders, and focuses it. */
  focusIndex(index: number): void {
    if (this.names.length === 0) return
    const i = Math.max(0, Math.min(this.names.length - 1, index))
    const vp = this.o.viewport
    const offset = this.o.sizer.offsetTop
    const top = offset + Math.floor(i / this.columns) * this.rowPx
    // The rows scroll under a sticky header as tall as `offset`.
    if (top - offset < vp.scrollTop) vp.scrollTop = top - offset
    else if (top + this.rowPx > vp.scrollTop + vp.clientHeight) vp.scrollTop = top + this.rowPx - vp.clientHeight
    this.render()
    this.views.get(this.names[i]!)?.focusTarget.focus({ preventScroll: true })
  }

  /** How many items one viewport shows (for Page Up / Page Down). */
  pageItems(): number {
    return Math.max(1, Math.floor(this.o.viewport.clientHeight / this.rowPx)) * this.columns
  }

  private later(): void {
    if (this.frame !== null) return
    this.frame = requestAnimationFrame(() => {
      this.frame = null
      this.render()
    })
  }

  render(): void {
    const o = this.o
    if (!this.measured) this.measureColumns()
    const total = this.names.length
    const vp = o.viewport
    const r = rangeOf(vp.scrollTop, vp.clientHeight, o.sizer.offsetTop, total, this.rowPx, this.columns, o.overscanRows)
    o.sizer.style.height = `${r.rows * this.rowPx}px`
    o.window.style.transform = `translateY(${r.firstRow * this.rowPx}px)`

    if (total !== this.placedTotal) {
      // Every view carries the list's size (aria-setsize, aria-rowcount): all are placed again.
      this.placedTotal = total
      this.placed.clear()
    }
    const wanted = new Set<string>()
    for (let i = r.start; i < r.end; i++) wanted.add(this.names[i]!)
    const active = document.activeElement
    let refocus: HTMLElement | null = null
    for (const [name, v] of this.views) {
      if (wanted.has(name)) continue
      // The focus never falls to the body: it waits on the viewport, and the arrow keys go on from there.
      if (active !== null && v.el.contains(active)) refocus = vp
      v.el.remove()
      this.views.delete(name)
      this.placed.delete(name)
      o.drop(v, name)
    }
    let ref = o.window.firstElementChild
    for (let i = r.start; i < r.end; i++) {
      const name = this.names[i]!
      let v = this.views.get(name)
      if (v === undefined) {
        v = o.create(name)
        this.views.set(name, v)
      }
      if (this.placed.get(name) !== i) {
        this.placed.set(name, i)
        o.place(v, name, i, total)
      }
      if (v.el === ref) ref = ref.nextElementSibling
      else {
        // Moving a node drops its focus; it is given back below.
        if (active instanceof HTMLElement && v.el.contains(active)) refocus = active
        o.window.insertBefore(v.el, ref)
      }
    }
    if (refocus !== null && document.activeElement !== refocus) refocus.focus({ preventScroll: true })

    const first = o.window.firstElementChild as HTMLElement | null
    if (first !== null && !this.measured) {
      this.measured = true
      const gap = parseFloat(getComputedStyle(o.window).rowGap) || 0
      const px = first.getBoundingClientRect().height + gap
      if (px > 0 && Math.abs(px - this.rowPx) > 0.5) {
        this.rowPx = px
        this.render()
      }
    }
  }

  private measureColumns(): void {
    const o = this.o
    if (o.minColumnRem === null) {
      this.columns = 1
      return
    }
    const style = getComputedStyle(o.window)
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16
    const gap = parseFloat(style.columnGap) || 0
    const cols = columnsFor(o.window.clientWidth, o.minColumnRem * rem, gap)
    if (cols !== this.columns) {
      this.columns = cols
      o.window.style.setProperty('--columns', String(cols))
    }
  }
}
