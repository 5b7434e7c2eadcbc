/**
 * @module The drawer's "Actions" section: connect (with its QR / pairing-code panel), reconnect,
 * log out and delete, each shown only while it applies to the instance's current state, and the
 * simulator's scan and drop when the hub is simulated.
 */
import type { InstanceItem } from '../client/index.js'
import { ACTION_LABEL, ACTIONS, applies, confirmation, request, SIM_ACTIONS, type Action } from './actions.js'
import { ApiError } from './api.js'
import { ConnectPanel } from './connect-panel.js'
import { button, el } from './dom.js'
import type { DrawerContext, DrawerSection } from './drawer.js'

export class ActionsSection implements DrawerSection {
  readonly id = 'actions'
  readonly title = 'Actions'
  readonly el: HTMLElement
  private readonly buttons = new Map<Action, HTMLButtonElement>()
  private readonly slot: HTMLElement
  private readonly none: HTMLElement
  private panel: ConnectPanel | null = null
  private item: InstanceItem | null = null

  constructor(private readonly ctx: DrawerContext) {
    const box = el('div', 'drawer-actions')
    const bar = el('div', 'actions')
    for (const a of ACTIONS) {
      const b = button(ACTION_LABEL[a], a, a === 'delete' ? 'danger' : SIM_ACTIONS.has(a) ? 'sim' : '')
      b.addEventListener('click', () => this.run(a, b))
      this.buttons.set(a, b)
      bar.append(b)
    }
    this.none = el('p', 'none', 'Nothing applies right now.')
    this.slot = el('div', 'panel-slot')
    box.append(bar, this.none, this.slot)
    this.el = box
  }

  open(item: InstanceItem, now: number): void {
    for (const [a, b] of this.buttons) b.setAttribute('aria-label', `${ACTION_LABEL[a]} ${item.name}`)
    this.update(item, now)
  }

  update(item: InstanceItem, _now: number): void {
    this.item = item
    let shown = 0
    for (const [a, b] of this.buttons) {
      const on = applies(a, item) && (!SIM_ACTIONS.has(a) || this.ctx.simulated())
      if (!on && document.activeElement === b) this.el.closest('section')?.querySelector<HTMLElement>('h3')?.focus()
      b.hidden = !on
      if (on) shown++
    }
    this.none.hidden = shown > 0
    if (item.connection.state === 'connected') this.panel?.close()
  }

  tick(): void {}

  close(): void {
    this.panel?.close()
    this.item = null
  }

  private run(action: Action, b: HTMLButtonElement): void {
    const item = this.item
    if (item === null) return
    const name = item.name
    if (action === 'connect') return this.openPanel(name)
    const question = confirmation(action, name)
    if (question !== null && !confirm(question)) return
    const context = `${ACTION_LABEL[action]} ${name}`
    b.disabled = true
    request(this.ctx.api, action, name)
      .then((r) => this.ctx.notify('ok', context, r.message ?? 'Done'))
      .catch((err) => this.ctx.notify('error', context, err instanceof ApiError ? err.message : String(err)))
      .finally(() => (b.disabled = false))
  }

  private openPanel(name: string): void {
    if (this.panel === null) {
      const panel = new ConnectPanel(
        name,
        this.ctx.api,
        () => this.item?.name === name && this.item.connection.state === 'connecting',
        () => {
          if (this.panel === panel) this.panel = null
        },
      )
      this.panel = panel
      this.slot.append(panel.el)
    }
    this.panel.open()
  }
}
