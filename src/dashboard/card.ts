/**
 * @module One instance card (an article of the cards feed). Built when it scrolls into view;
 * `update` touches only the fields whose text changed, so a diff to one instance never
 * re-renders the grid. Its actions live in the drawer its Details button opens.
 */
import type { InstanceItem } from '../client/index.js'
import { button, el, setText } from './dom.js'
import { changedText, phoneText, reasonText, reasonTitle, retryText, sinceText, STATE_LABEL, syncText, whenText } from './format.js'
import { Strip } from './strip.js'
import type { Transition } from './timeline.js'
import type { ItemView } from './virtual-list.js'

/** Transitions a card lists; the drawer has the rest. */
export const CARD_TRANSITIONS = 3

let ids = 0

export class Card implements ItemView {
  readonly el: HTMLElement
  readonly focusTarget: HTMLButtonElement
  item: InstanceItem | null = null
  private readonly avatar: HTMLElement
  private readonly badge: HTMLElement
  private readonly profile: HTMLElement
  private readonly display: HTMLElement
  private readonly reason: HTMLElement
  private readonly reasonText: HTMLElement
  private readonly sync: HTMLElement
  private readonly presence: HTMLElement
  private readonly since: HTMLElement
  private readonly changed: HTMLElement
  private readonly retry: HTMLElement
  private readonly strip: Strip
  private readonly timeline: HTMLOListElement
  private picture: string | null = null

  constructor(readonly name: string) {
    const card = el('article', 'card')
    card.dataset.name = name
    const titleId = `card-${++ids}`
    card.setAttribute('aria-labelledby', titleId)
    const head = el('header', 'card-head')
    this.avatar = el('span', 'avatar', initial(name))
    this.avatar.setAttribute('aria-hidden', 'true')
    const who = el('div', 'who')
    const title = el('h2', 'name', name)
    title.id = titleId
    this.profile = el('p', 'profile')
    who.append(title, this.profile)
    this.badge = el('span', 'badge')
    head.append(this.avatar, who, this.badge)

    this.display = el('p', 'display')
    // The reason, then `syncing…` while a connected number's offline backlog has not arrived.
    this.reason = el('p', 'reason')
    this.reasonText = el('span', 'reason-text')
    this.sync = el('span', 'sync')
    this.reason.append(this.reasonText, this.sync)
    const meta = el('p', 'meta')
    this.presence = el('span', 'presence')
    this.since = el('span', 'since')
    this.changed = el('span', 'changed')
    this.retry = el('span', 'retry')
    this.retry.setAttribute('role', 'timer')
    meta.append(this.presence, this.since, this.changed, this.retry)

    this.strip = new Strip(`Last 24 hours of ${name} as this page saw them`, 'mini')
    this.timeline = el('ol', 'timeline')
    this.timeline.setAttribute('aria-label', `Recent transitions of ${name}`)

    const foot = el('footer', 'card-foot')
    this.focusTarget = button('Details', 'open')
    this.focusTarget.setAttribute('aria-label', `Details for ${name}`)
    this.focusTarget.setAttribute('aria-controls', 'drawer')
    foot.append(this.focusTarget)
    card.append(head, this.display, this.reason, meta, this.strip.el, this.timeline, foot)
    this.el = card
  }

  /** Position in the feed, for screen readers (only a window of the feed is in the DOM). */
  place(index: number, total: number): void {
    this.el.setAttribute('aria-posinset', String(index + 1))
    this.el.setAttribute('aria-setsize', String(total))
  }

  update(item: InstanceItem, now: number): void {
    this.item = item
    const c = item.connection
    if (this.el.dataset.state !== c.state) this.el.dataset.state = c.state
    this.badge.dataset.state = c.state
    setText(this.badge, STATE_LABEL[c.state] ?? c.state)
    setText(this.display, c.displayStatus)
    const reason = reasonText(c.reason)
    setText(this.reasonText, reason)
    setText(this.sync, syncText(c))
    // The close's own detail (conflict:device_removed, a ban's terms) in the tooltip; the drawer says it in words.
    const title = reason !== '' || c.closeDetail ? reasonTitle(c) : ''
    if (title === '') this.reason.removeAttribute('title')
    else this.reason.title = title
    setText(this.presence, c.presenceStatus)
    this.presence.dataset.presence = c.presenceStatus
    const number = phoneText(c.numberJid)
    setText(this.profile, [item.profile.name, number].filter((s) => s !== '').join(' · '))
    this.since.title = `in this state since ${c.since}`
    this.changed.title = `last change ${item.updatedAt}`
    this.setPicture(item.profile.pictureUrl)
    this.tick(now)
  }

  /** Clock-driven text: time in state and the retry countdown. */
  tick(now: number): void {
    if (this.item === null) return
    setText(this.since, sinceText(this.item.connection.since, now))
    setText(this.changed, changedText(this.item.updatedAt, now))
    setText(this.retry, retryText(this.item.connection.retryAt, now))
  }

  /** The strip of the last 24 h and the newest transitions, from what the stream has shown. */
  renderTimeline(entries: readonly Transition[], now: number): void {
    this.strip.render(entries, now)
    const items = entries.slice(0, CARD_TRANSITIONS).map((t) => {
      const li = el('li')
      li.dataset.state = t.state
      const time = el('time', '', whenText(t.at, now))
      time.dateTime = t.at
      li.append(time, ` ${STATE_LABEL[t.state] ?? t.state} — ${t.displayStatus}`)
      return li
    })
    this.timeline.replaceChildren(...items)
  }

  private setPicture(url: string | null): void {
    if (url === this.picture) return
    this.picture = url
    if (url === null) {
      this.avatar.replaceChildren(initial(this.name))
      return
    }
    const img = el('img')
    img.src = url
    img.alt = ''
    img.loading = 'lazy'
    img.referrerPolicy = 'no-referrer'
    img.onerror = () => this.avatar.replaceChildren(initial(this.name))
    this.avatar.replaceChildren(img)
  }
}

function initial(name: string): string {
  return name.slice(0, 1).toUpperCase()
}
