/**
 * @module One row of the compact table: state, name, reason, time in state, number, uptime.
 * Built when it scrolls into view and updated field by field, like a card.
 */
import type { InstanceItem } from '../client/index.js'
import { el, setText } from './dom.js'
import { uptimeOf, DAY_MS } from './day.js'
import { duration, percentText, phoneText, reasonText, reasonTitle, retryText, STATE_LABEL, syncText } from './format.js'
import { Strip } from './strip.js'
import type { Transition } from './timeline.js'
import type { ItemView } from './virtual-list.js'

/** The table's columns, in order: the header and every row are built from this. */
export const COLUMNS = [
  { key: 'state', label: 'State' },
  { key: 'name', label: 'Name' },
  { key: 'reason', label: 'Reason' },
  { key: 'since', label: 'In state' },
  { key: 'number', label: 'Number' },
  { key: 'uptime', label: 'Uptime (24 h)' },
] as const

export class Row implements ItemView {
  readonly el: HTMLElement
  readonly focusTarget: HTMLButtonElement
  item: InstanceItem | null = null
  private readonly badge: HTMLElement
  private readonly profile: HTMLElement
  private readonly reason: HTMLElement
  private readonly since: HTMLElement
  private readonly retry: HTMLElement
  private readonly sync: HTMLElement
  private readonly number: HTMLElement
  private readonly share: HTMLElement
  private readonly seen: HTMLElement
  private readonly strip: Strip

  constructor(readonly name: string) {
    const row = el('div', 'row')
    row.setAttribute('role', 'row')
    row.dataset.name = name
    const cell = (key: string) => {
      const c = el('div', `cell c-${key}`)
      c.setAttribute('role', 'cell')
      return c
    }
    const state = cell('state')
    this.badge = el('span', 'badge')
    state.append(this.badge)

    const who = cell('name')
    this.focusTarget = el('button', 'open', name)
    this.focusTarget.type = 'button'
    this.focusTarget.dataset.action = 'open'
    this.focusTarget.setAttribute('aria-label', `Details for ${name}`)
    this.focusTarget.setAttribute('aria-controls', 'drawer')
    this.profile = el('span', 'sub')
    who.append(this.focusTarget, this.profile)

    const reason = cell('reason')
    this.reason = el('span', 'reason-text')
    reason.append(this.reason)
    const since = cell('since')
    this.since = el('span', 'since')
    this.retry = el('span', 'sub retry')
    // `syncing…` while a connected number's offline backlog arrives (connected: no retry shares the line).
    this.sync = el('span', 'sub sync')
    since.append(this.since, this.retry, this.sync)
    const number = cell('number')
    this.number = el('span')
    number.append(this.number)
    const uptime = cell('uptime')
    const figures = el('span', 'figures')
    this.share = el('span', 'share')
    this.seen = el('span', 'sub seen')
    figures.append(this.share, this.seen)
    this.strip = new Strip(`Last 24 hours of ${name} as this page saw them`, 'mini')
    uptime.append(figures, this.strip.el)
    row.append(state, who, reason, since, number, uptime)
    this.el = row
  }

  place(index: number, _total?: number): void {
    // Row 1 is the header.
    this.el.setAttribute('aria-rowindex', String(index + 2))
  }

  update(item: InstanceItem, now: number): void {
    this.item = item
    const c = item.connection
    if (this.el.dataset.state !== c.state) this.el.dataset.state = c.state
    this.badge.dataset.state = c.state
    setText(this.badge, STATE_LABEL[c.state] ?? c.state)
    setText(this.profile, item.profile.name)
    const reason = reasonText(c.reason)
    setText(this.reason, reason || '—')
    this.reason.title = reasonTitle(c)
    setText(this.number, phoneText(c.numberJid) || '—')
    setText(this.sync, syncText(c))
    this.tick(now)
  }

  tick(now: number): void {
    if (this.item === null) return
    const at = Date.parse(this.item.connection.since)
    setText(this.since, Number.isNaN(at) ? '' : duration(now - at))
    setText(this.retry, retryText(this.item.connection.retryAt, now))
  }

  /** The uptime the stream has shown: exact for a state older than the window, else over what was seen. */
  renderTimeline(entries: readonly Transition[], now: number): void {
    this.strip.render(entries, now)
    const u = uptimeOf(entries, now)
    const partial = u.windowMs < DAY_MS - 1000
    setText(this.share, percentText(u.share))
    setText(this.seen, partial ? `of ${duration(u.windowMs)}` : '')
    this.share.title = partial ? `connected share of the last ${duration(u.windowMs)} (what this page has seen)` : 'connected share of the last 24 hours'
  }
}
