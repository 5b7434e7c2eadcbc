/**
 * @module One instance card. Built once; `update` touches only the fields whose text changed, so
 * a diff to one instance never re-renders the grid.
 */
import type { InstanceItem } from '../client/index.js'
import { button, el, setText } from './dom.js'
import { changedText, clockText, phoneText, reasonText, retryText, sinceText, STATE_LABEL } from './format.js'
import type { Transition } from './timeline.js'

export class Card {
  readonly el: HTMLElement
  /** The connect panel's slot; the panel itself is managed by the board. */
  readonly panelSlot: HTMLElement
  item: InstanceItem | null = null
  private readonly avatar: HTMLElement
  private readonly badge: HTMLElement
  private readonly profile: HTMLElement
  private readonly display: HTMLElement
  private readonly reason: HTMLElement
  private readonly presence: HTMLElement
  private readonly since: HTMLElement
  private readonly changed: HTMLElement
  private readonly retry: HTMLElement
  private readonly timeline: HTMLOListElement
  private picture: string | null = null

  constructor(readonly name: string) {
    const card = el('article', 'card')
    card.dataset.name = name
    const head = el('header', 'card-head')
    this.avatar = el('span', 'avatar', initial(name))
    this.avatar.setAttribute('aria-hidden', 'true')
    const who = el('div', 'who')
    const title = el('h2', 'name', name)
    this.profile = el('p', 'profile')
    who.append(title, this.profile)
    this.badge = el('span', 'badge')
    head.append(this.avatar, who, this.badge)

    this.display = el('p', 'display')
    this.reason = el('p', 'reason')
    const meta = el('p', 'meta')
    this.presence = el('span', 'presence')
    this.since = el('span', 'since')
    this.changed = el('span', 'changed')
    this.retry = el('span', 'retry')
    this.retry.setAttribute('role', 'timer')
    meta.append(this.presence, this.since, this.changed, this.retry)

    this.timeline = el('ol', 'timeline')
    this.timeline.setAttribute('aria-label', `Recent transitions of ${name}`)

    const actions = el('div', 'actions')
    actions.append(
      button('Connect', 'connect'),
      button('Reconnect', 'reconnect'),
      button('Log out', 'logout'),
      button('Delete', 'delete', 'danger'),
      button('Simulate scan', 'sim-scan', 'sim'),
      button('Simulate drop', 'sim-drop', 'sim'),
    )
    for (const b of actions.querySelectorAll('button')) b.setAttribute('aria-label', `${b.textContent} ${name}`)
    this.panelSlot = el('div', 'panel-slot')
    card.append(head, this.display, this.reason, meta, this.timeline, actions, this.panelSlot)
    this.el = card
  }

  update(item: InstanceItem, now: number): void {
    this.item = item
    const c = item.connection
    if (this.el.dataset.state !== c.state) this.el.dataset.state = c.state
    setText(this.badge, STATE_LABEL[c.state] ?? c.state)
    setText(this.display, c.displayStatus)
    setText(this.reason, reasonText(c.reason))
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

  renderTimeline(entries: readonly Transition[]): void {
    const items = entries.map((t) => {
      const li = el('li')
      li.dataset.state = t.state
      const time = el('time', '', clockText(t.at))
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
