/**
 * @module The drawer's "Last 24 hours" section: the timeline strip, the uptime, liveness, and the
 * transitions with their reasons. From the hub's history endpoint when it has one, with the
 * stream's newer transitions in front; else (404 "Not found") from what the stream has shown
 * since the page opened, and it says so.
 */
import type { InstanceItem } from '../client/index.js'
import { el, setText } from './dom.js'
import type { DrawerContext, DrawerSection } from './drawer.js'
import { DAY_MS, uptimeOf } from './day.js'
import { clockText, duration, percentText, reasonText, STATE_LABEL, STATES, whenText } from './format.js'
import { fetchHistory, withLive, type HistoryAnswer } from './history.js'
import { Strip } from './strip.js'
import type { Transition } from './timeline.js'

/** Transitions listed; older ones are counted, not listed. */
export const LISTED = 200

const AXIS = ['−24 h', '−18 h', '−12 h', '−6 h', 'now']

export class HistorySection implements DrawerSection {
  readonly id = 'history'
  readonly title = 'Last 24 hours'
  readonly el: HTMLElement
  private readonly strip: Strip
  /** The known part of the window, when it is shorter than the window: a few minutes of flaps are visible there. */
  private readonly zoom: Strip
  private readonly zoomBox: HTMLElement
  private readonly zoomStart: HTMLElement
  private readonly uptime: HTMLElement
  private readonly liveness: HTMLElement
  private readonly source: HTMLElement
  private readonly list: HTMLOListElement
  private readonly more: HTMLElement
  private name: string | null = null
  private answer: HistoryAnswer | null = null
  /** Bumped on every open: an answer for an earlier one is dropped. */
  private request = 0
  private listed: readonly Transition[] = []

  constructor(private readonly ctx: DrawerContext) {
    const box = el('div', 'history')
    this.strip = new Strip('Last 24 hours', 'wide day')
    const axis = el('div', 'axis')
    axis.setAttribute('aria-hidden', 'true')
    axis.append(...AXIS.map((t) => el('span', '', t)))
    this.zoom = new Strip('All that is known', 'wide zoom')
    this.zoomBox = el('div', 'zoom-box')
    const zoomAxis = el('div', 'axis')
    zoomAxis.setAttribute('aria-hidden', 'true')
    this.zoomStart = el('span')
    zoomAxis.append(this.zoomStart, el('span', '', 'now'))
    this.zoomBox.append(el('p', 'zoom-title', 'All that is known, stretched to the width'), this.zoom.el, zoomAxis)
    const legend = el('ul', 'legend')
    legend.setAttribute('aria-label', 'Legend')
    for (const s of [...STATES, 'none'] as const) {
      const li = el('li')
      const sw = el('span', 'swatch')
      sw.dataset.state = s
      sw.setAttribute('aria-hidden', 'true')
      li.append(sw, s === 'none' ? 'no record' : STATE_LABEL[s])
      legend.append(li)
    }
    this.uptime = el('p', 'uptime')
    this.liveness = el('p', 'liveness')
    this.source = el('p', 'source')
    this.source.setAttribute('role', 'status')
    const h = el('h4', '', 'Transitions, newest first')
    this.list = el('ol', 'history-list')
    this.list.setAttribute('aria-label', 'Transitions, newest first')
    this.more = el('p', 'more')
    box.append(this.strip.el, axis, this.zoomBox, legend, this.uptime, this.liveness, this.source, h, this.list, this.more)
    this.el = box
  }

  open(item: InstanceItem, now: number): void {
    this.name = item.name
    this.answer = null
    this.listed = []
    const mine = ++this.request
    this.el.dataset.source = 'loading'
    setText(this.source, 'Asking the hub for the history…')
    this.render(now)
    void fetchHistory(this.ctx.api, item.name).then((a) => {
      if (mine !== this.request) return
      this.answer = a
      this.render(Date.now())
    })
  }

  update(_item: InstanceItem, now: number): void {
    this.render(now)
  }

  tick(now: number): void {
    // The strip moves with the clock (it redraws only when a span changes by 0.1%).
    if (this.name !== null) this.renderDay(this.entries(), now)
  }

  close(): void {
    this.request++
    this.name = null
    this.answer = null
  }

  private entries(): readonly Transition[] {
    const live = this.ctx.transitions(this.name!)
    return this.answer?.kind === 'hub' ? withLive(this.answer.entries, live) : live
  }

  private render(now: number): void {
    if (this.name === null) return
    const a = this.answer
    const entries = this.entries()
    if (a !== null) {
      this.el.dataset.source = a.kind === 'hub' ? 'hub' : 'stream'
      setText(this.source, sourceText(a, entries))
    }
    this.renderDay(entries, now)
    this.renderList(entries, now)
  }

  private renderDay(entries: readonly Transition[], now: number): void {
    const spans = this.strip.render(entries, now)
    const known = spans.find((s) => s.state !== null)
    const partial = known !== undefined && known.from > now - DAY_MS + 1000
    this.zoomBox.hidden = !partial
    if (partial) {
      this.zoom.render(entries, now, now - known.from)
      setText(this.zoomStart, clockText(new Date(known.from).toISOString()))
    }
    const a = this.answer
    if (a?.kind === 'hub' && a.uptime !== null) {
      const u = a.uptime
      setText(this.uptime, `Connected ${percentText(u.share24h)} of the last ${u.windowMs >= DAY_MS ? '24 hours' : duration(u.windowMs)} (${duration(u.connectedMs)}), as the hub counts it.`)
    } else {
      const u = uptimeOf(entries, now)
      setText(
        this.uptime,
        u.share === null
          ? 'No uptime known yet.'
          : `Connected ${percentText(u.share)} of the last ${u.windowMs >= DAY_MS - 1000 ? '24 hours' : duration(u.windowMs)} this page has seen (${duration(u.connectedMs)}).`,
      )
    }
    const l = a?.kind === 'hub' ? a.liveness : null
    const parts: string[] = []
    if (l?.lastFrameAt) parts.push(`last frame from WhatsApp ${duration(now - Date.parse(l.lastFrameAt))} ago`)
    if (l?.connectedSince) parts.push(`connected since ${clockText(l.connectedSince)}`)
    setText(this.liveness, parts.length === 0 ? '' : capital(parts.join(', ')) + '.')
    this.liveness.hidden = parts.length === 0
  }

  private renderList(entries: readonly Transition[], now: number): void {
    if (sameEntries(entries, this.listed)) return
    this.listed = entries
    this.list.replaceChildren(
      ...entries.slice(0, LISTED).map((t) => {
        const li = el('li')
        li.dataset.state = t.state
        const time = el('time', '', whenText(t.at, now))
        time.dateTime = t.at
        const badge = el('span', 'badge', STATE_LABEL[t.state])
        badge.dataset.state = t.state
        const what = el('span', 'what', t.displayStatus)
        li.append(time, badge, what)
        const reason = reasonText(t.reason)
        if (reason !== '') li.append(el('span', 'why', reason))
        return li
      }),
    )
    const older = entries.length - LISTED
    setText(this.more, older > 0 ? `and ${older} older` : '')
    this.more.hidden = older <= 0
  }
}

function sourceText(a: HistoryAnswer, entries: readonly Transition[]): string {
  const n = `${entries.length} transition${entries.length === 1 ? '' : 's'}`
  switch (a.kind) {
    case 'hub':
      return `From the hub's history: ${n}.`
    case 'none':
      return `The hub keeps no history yet: ${n} the stream has shown since this page opened.`
    case 'gone':
      return `${a.message}: ${n} the stream showed.`
    case 'error':
      return `The history could not be loaded (${a.message}): ${n} the stream has shown since this page opened.`
  }
}

function sameEntries(a: readonly Transition[], b: readonly Transition[]): boolean {
  return a.length === b.length && a.every((e, i) => e === b[i])
}

function capital(s: string): string {
  return s.slice(0, 1).toUpperCase() + s.slice(1)
}
