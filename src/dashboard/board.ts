/**
 * @module The instance grid: one card per mirror entry, rendered in batches (at most once per
 * animation frame, only the cards that changed), the state counters, the per-card actions and
 * the connect panels.
 */
import type { ChangeBatch, ClientEvent, StatusClient } from '../client/index.js'
import { ApiError, instancePath, type Api } from './api.js'
import { Card } from './card.js'
import { ConnectPanel } from './connect-panel.js'
import { setText } from './dom.js'
import { countStates, STATES } from './format.js'
import { Timelines } from './timeline.js'

export type Notify = (kind: 'ok' | 'error', context: string, message: string) => void

export class Board {
  private readonly cards = new Map<string, Card>()
  private readonly panels = new Map<string, ConnectPanel>()
  private readonly timelines = new Timelines(5)
  private readonly timelineDirty = new Set<string>()
  private readonly ticker: ReturnType<typeof setInterval>
  /** Batches rendered so far; published as the grid's `data-renders` for tests and debugging. */
  private renders = 0

  constructor(
    private readonly grid: HTMLElement,
    private readonly counters: HTMLElement,
    private readonly client: StatusClient,
    private readonly api: Api,
    private readonly notify: Notify,
  ) {
    client.on('diff', (e) => this.onDiff(e))
    client.onChange((b) => this.render(b))
    grid.addEventListener('click', (e) => this.onClick(e))
    this.ticker = setInterval(() => this.tick(), 1000)
  }

  dispose(): void {
    clearInterval(this.ticker)
    for (const p of [...this.panels.values()]) p.close()
    this.cards.clear()
    this.grid.replaceChildren()
  }

  private onDiff(e: Extract<ClientEvent, { type: 'diff' }>): void {
    if (this.timelines.record(e.previous, e.item, e.at)) this.timelineDirty.add(e.name)
  }

  private render(b: ChangeBatch): void {
    const now = Date.now()
    const mirror = this.client.mirror
    if (b.reset) {
      for (const [name, card] of this.cards) {
        if (!mirror.has(name)) this.drop(name, card)
      }
      const order: HTMLElement[] = []
      for (const name of mirror.keys()) order.push(this.show(name, now).el)
      // Re-appending in mirror order moves each card once; resets are rare (first load, lost resume).
      this.grid.append(...order)
    } else {
      for (const name of b.removed) {
        const card = this.cards.get(name)
        if (card !== undefined) this.drop(name, card)
      }
      for (const name of b.upserted) if (mirror.has(name)) this.show(name, now)
    }
    for (const name of this.timelineDirty) this.cards.get(name)?.renderTimeline(this.timelines.of(name))
    this.timelineDirty.clear()
    this.renderCounters()
    this.grid.dataset.renders = String(++this.renders)
  }

  /** Creates or updates the card of `name` from the mirror. */
  private show(name: string, now: number): Card {
    const item = this.client.mirror.get(name)!
    let card = this.cards.get(name)
    if (card === undefined) {
      card = new Card(name)
      this.cards.set(name, card)
      this.grid.append(card.el)
      this.timelines.seed(item)
      this.timelineDirty.add(name)
    }
    if (card.item !== item) card.update(item, now)
    if (item.connection.state === 'connected') this.panels.get(name)?.close()
    return card
  }

  private drop(name: string, card: Card): void {
    this.panels.get(name)?.close()
    card.el.remove()
    this.cards.delete(name)
    this.timelines.forget(name)
  }

  private renderCounters(): void {
    const counts = countStates(this.client.mirror.values())
    for (const s of STATES) {
      const e = this.counters.querySelector<HTMLElement>(`[data-count="${s}"]`)
      if (e) setText(e, String(counts[s]))
    }
  }

  private tick(): void {
    const now = Date.now()
    for (const card of this.cards.values()) card.tick(now)
  }

  // ---- actions --------------------------------------------------------------------------------

  private onClick(e: MouseEvent): void {
    const target = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]')
    const name = target?.closest<HTMLElement>('.card')?.dataset.name
    if (!target || name === undefined) return
    const action = target.dataset.action!
    if (action === 'connect') return this.openPanel(name)
    const call = this.request(action, name)
    if (call === null) return
    target.disabled = true
    call
      .then((r) => this.notify('ok', `${target.textContent} ${name}`, r.message ?? 'Done'))
      .catch((err) => this.notify('error', `${target.textContent} ${name}`, err instanceof ApiError ? err.message : String(err)))
      .finally(() => (target.disabled = false))
  }

  private request(action: string, name: string): Promise<Record<string, any>> | null {
    switch (action) {
      case 'reconnect':
        return this.api('POST', instancePath('/api/instance/reconnect', name))
      case 'logout':
        if (!confirm(`Log out ${name}? The device is unlinked and a new QR scan is needed.`)) return null
        return this.api('DELETE', instancePath('/api/instance/logout', name))
      case 'delete':
        if (!confirm(`Delete ${name}? Its session and token are gone for good.`)) return null
        return this.api('DELETE', instancePath('/api/instance/delete', name))
      case 'sim-scan':
        return this.api('POST', `${instancePath('/api/sim', name)}/scan`)
      case 'sim-drop':
        return this.api('POST', `${instancePath('/api/sim', name)}/close`, { code: 428, message: 'Connection Terminated' })
      default:
        return null
    }
  }

  private openPanel(name: string): void {
    const card = this.cards.get(name)
    if (card === undefined) return
    let panel = this.panels.get(name)
    if (panel === undefined) {
      panel = new ConnectPanel(
        name,
        this.api,
        () => this.client.mirror.get(name)?.connection.state === 'connecting',
        () => this.panels.delete(name),
      )
      this.panels.set(name, panel)
      card.panelSlot.append(panel.el)
    }
    panel.open()
  }
}
