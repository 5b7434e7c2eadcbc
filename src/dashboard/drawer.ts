/**
 * @module The detail drawer of one instance: a non-modal side panel made of sections (now,
 * history, webhook deliveries, actions), each a DrawerSection that the drawer
 * opens, updates and closes with the instance it shows. A new section is one more entry in the
 * list given to the constructor; the drawer itself knows nothing of what sections show.
 */
import type { InstanceItem } from '../client/index.js'
import type { Api } from './api.js'
import { el } from './dom.js'
import type { Transition } from './timeline.js'

export type Notify = (kind: 'ok' | 'error', context: string, message: string) => void

/** What sections may use; shared by all of them. */
export interface DrawerContext {
  readonly api: Api
  readonly notify: Notify
  /** The stream's transitions of an instance since the page opened, newest first. */
  transitions(name: string): readonly Transition[]
  /** Whether the hub runs simulated sockets (the simulator's actions exist only then). */
  simulated(): boolean
}

export interface DrawerSection {
  /** Stable id: `data-section` on its element, for styles and tests. */
  readonly id: string
  readonly title: string
  /** The section's content; the drawer wraps it with a heading. */
  readonly el: HTMLElement
  /** The drawer now shows `item` (opened, or switched from another instance). */
  open(item: InstanceItem, now: number): void
  /** The shown instance changed (a new item, or a transition the stream recorded). */
  update(item: InstanceItem, now: number): void
  /** Once a second while open, for clock-driven text. */
  tick(now: number): void
  /** The drawer closes or moves to another instance: timers stop, requests are ignored. */
  close(): void
  /** Given the section's wrapper (heading included), for a section that is not always shown. */
  attach?(wrap: HTMLElement): void
}

export class Drawer {
  readonly el: HTMLElement
  private readonly title: HTMLElement
  private shown: string | null = null

  constructor(
    private readonly sections: readonly DrawerSection[],
    /** The operator closed the drawer (button or Escape) showing `name`; the focus is the caller's to place. */
    private readonly onDismiss: (name: string) => void,
  ) {
    const aside = el('aside', 'drawer')
    aside.id = 'drawer'
    aside.setAttribute('aria-labelledby', 'drawer-title')
    aside.hidden = true
    const head = el('header', 'drawer-head')
    this.title = el('h2', 'drawer-title')
    this.title.id = 'drawer-title'
    this.title.tabIndex = -1
    const close = el('button', 'drawer-close', 'Close')
    close.type = 'button'
    close.setAttribute('aria-label', 'Close details')
    close.addEventListener('click', () => this.dismiss())
    head.append(this.title, close)
    const body = el('div', 'drawer-body')
    for (const s of sections) {
      const wrap = el('section', 'drawer-section')
      wrap.dataset.section = s.id
      const h = el('h3', '', s.title)
      h.id = `drawer-${s.id}`
      // A target for the focus when the control that had it goes away.
      h.tabIndex = -1
      wrap.setAttribute('aria-labelledby', h.id)
      wrap.append(h, s.el)
      s.attach?.(wrap)
      body.append(wrap)
    }
    aside.append(head, body)
    aside.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault()
        this.dismiss()
      }
    })
    this.el = aside
  }

  /** The instance shown, or null while closed. */
  get name(): string | null {
    return this.shown
  }

  /** Shows `item`. `focus`: move the focus into the drawer (when the operator opened it, not when the URL did). */
  show(item: InstanceItem, focus: boolean, now: number): void {
    if (this.shown !== item.name) {
      if (this.shown !== null) for (const s of this.sections) s.close()
      this.shown = item.name
      this.title.textContent = item.name
      this.el.dataset.name = item.name
      for (const s of this.sections) s.open(item, now)
    }
    this.el.hidden = false
    if (focus) this.title.focus()
  }

  update(item: InstanceItem, now: number): void {
    if (item.name !== this.shown) return
    for (const s of this.sections) s.update(item, now)
  }

  tick(now: number): void {
    if (this.shown === null) return
    for (const s of this.sections) s.tick(now)
  }

  /** Closes without moving the focus (the instance was deleted, or the URL changed). */
  close(): void {
    if (this.shown === null) return
    for (const s of this.sections) s.close()
    this.shown = null
    delete this.el.dataset.name
    this.el.hidden = true
  }

  private dismiss(): void {
    const name = this.shown
    if (name === null) return
    this.close()
    this.onDismiss(name)
  }
}
