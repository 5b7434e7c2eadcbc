/**
 * @module The drawer's "Webhook deliveries" section, shown only while the instance has webhooks:
 * its webhooks, how many deliveries are pending and dead-lettered, the latest deliveries (label,
 * seq, status, attempts, last error, next attempt), and a Retry that re-queues the dead ones and
 * says how many the hub re-queued. Deliveries are not in the stream: the section asks the hub when
 * it opens, on Refresh, after a retry, and every REFRESH_TICKS seconds while open.
 */
import type { InstanceItem } from '../client/index.js'
import { ApiError } from './api.js'
import { button, el, setText } from './dom.js'
import type { DrawerContext, DrawerSection } from './drawer.js'
import { whenText } from './format.js'
import { countText, fetchDeliveries, fetchHooks, requeuedText, retryDead, type Deliveries, type Hook } from './webhooks.js'

/** Seconds between refreshes while the drawer is open. */
export const REFRESH_TICKS = 10

const COLUMNS = ['Label', 'Seq', 'Status', 'Attempts', 'Last error', 'Next attempt'] as const

export class WebhooksSection implements DrawerSection {
  readonly id = 'webhooks'
  readonly title = 'Webhook deliveries'
  readonly el: HTMLElement
  private wrap: HTMLElement | null = null
  private readonly hooks: HTMLUListElement
  private readonly pending: HTMLElement
  private readonly dead: HTMLElement
  private readonly retry: HTMLButtonElement
  private readonly refresh: HTMLButtonElement
  private readonly result: HTMLElement
  private readonly status: HTMLElement
  private readonly body: HTMLTableSectionElement
  private readonly table: HTMLTableElement
  private name: string | null = null
  /** Bumped on every open and close: an answer for an earlier one is dropped. */
  private request = 0
  private loading = false
  /** A load was asked for while one was under way: it runs again when that one ends. */
  private again = false
  private ticks = 0

  constructor(private readonly ctx: DrawerContext) {
    const box = el('div', 'webhooks')
    box.dataset.state = 'none'
    this.hooks = el('ul', 'hooks')
    this.hooks.setAttribute('aria-label', 'Webhooks')
    const counts = el('dl', 'delivery-counts')
    this.pending = el('dd')
    this.pending.dataset.deliveries = 'pending'
    this.dead = el('dd')
    this.dead.dataset.deliveries = 'dead'
    counts.append(el('dt', '', 'Pending'), this.pending, el('dt', '', 'Dead letters'), this.dead)
    const bar = el('div', 'actions')
    this.retry = button('Retry dead deliveries', 'retry-deliveries')
    this.retry.addEventListener('click', () => this.runRetry())
    this.refresh = button('Refresh', 'refresh-deliveries')
    this.refresh.setAttribute('aria-label', 'Refresh webhook deliveries')
    this.refresh.addEventListener('click', () => this.load())
    bar.append(this.retry, this.refresh)
    this.result = el('p', 'retry-result')
    this.result.setAttribute('role', 'status')
    this.status = el('p', 'webhook-status')
    this.status.setAttribute('role', 'status')
    this.table = el('table', 'deliveries')
    const caption = el('caption', '', 'Latest deliveries, newest first')
    const head = el('thead')
    const tr = el('tr')
    for (const c of COLUMNS) {
      const th = el('th', '', c)
      th.scope = 'col'
      tr.append(th)
    }
    head.append(tr)
    this.body = el('tbody')
    this.table.append(caption, head, this.body)
    box.append(this.hooks, counts, bar, this.result, this.status, this.table)
    this.el = box
  }

  attach(wrap: HTMLElement): void {
    this.wrap = wrap
    wrap.hidden = true
  }

  open(item: InstanceItem): void {
    this.name = item.name
    this.request++
    this.loading = false
    this.again = false
    this.refresh.disabled = false
    this.ticks = 0
    this.show(false)
    this.el.dataset.state = 'loading'
    setText(this.result, '')
    this.retry.setAttribute('aria-label', `Retry dead deliveries of ${item.name}`)
    this.load()
  }

  update(): void {}

  tick(): void {
    if (this.name !== null && ++this.ticks % REFRESH_TICKS === 0) this.load()
  }

  close(): void {
    this.request++
    this.name = null
    this.loading = false
    this.again = false
    this.refresh.disabled = false
    this.show(false)
  }

  private show(on: boolean): void {
    if (this.wrap === null) return
    // The focus never stays on a control that disappears.
    if (!on && this.wrap.contains(document.activeElement)) this.wrap.closest('aside')?.querySelector<HTMLElement>('h2')?.focus()
    this.wrap.hidden = !on
  }

  /** Which webhooks there are, then their deliveries; without webhooks the section stays hidden. */
  private load(): void {
    const name = this.name
    if (name === null) return
    if (this.loading) {
      this.again = true
      return
    }
    const mine = this.request
    this.loading = true
    this.refresh.disabled = true
    const current = () => mine === this.request
    fetchHooks(this.ctx.api, name)
      .then(async (hooks) => {
        if (!current()) return
        if (hooks.length === 0) {
          this.el.dataset.state = 'none'
          this.show(false)
          return
        }
        this.renderHooks(hooks)
        this.show(true)
        const d = await fetchDeliveries(this.ctx.api, name)
        if (!current()) return
        this.renderDeliveries(d)
        this.el.dataset.state = 'shown'
        setText(this.status, d.latest.length === 0 ? 'No deliveries yet.' : '')
      })
      .catch((err) => {
        if (!current()) return
        // An instance the hub no longer has hides the section; any other failure is said.
        if (err instanceof ApiError && err.status === 404) {
          this.el.dataset.state = 'none'
          this.show(false)
          return
        }
        this.el.dataset.state = 'error'
        setText(this.status, `The deliveries could not be loaded: ${err instanceof Error ? err.message : String(err)}`)
      })
      .finally(() => {
        if (!current()) return
        this.loading = false
        this.refresh.disabled = false
        if (this.again) {
          this.again = false
          this.load()
        }
      })
  }

  private runRetry(): void {
    const name = this.name
    if (name === null) return
    const mine = this.request
    this.retry.disabled = true
    setText(this.result, '')
    retryDead(this.ctx.api, name)
      .then((n) => {
        if (mine !== this.request) return
        this.result.dataset.requeued = String(n)
        setText(this.result, requeuedText(n))
        this.load()
      })
      .catch((err) => {
        if (mine !== this.request) return
        delete this.result.dataset.requeued
        setText(this.result, `Retry failed: ${err instanceof Error ? err.message : String(err)}`)
      })
      .finally(() => (this.retry.disabled = false))
  }

  private renderHooks(hooks: readonly Hook[]): void {
    this.hooks.replaceChildren(
      ...hooks.map((h) => {
        const li = el('li')
        li.dataset.label = h.label
        li.dataset.enabled = String(h.enabled)
        li.append(el('b', '', h.label), ` ${h.enabled ? 'enabled' : 'disabled'}`)
        if (h.url !== '') li.append(' → ', el('span', 'url', h.url))
        return li
      }),
    )
  }

  private renderDeliveries(d: Deliveries): void {
    setText(this.pending, countText(d.pending))
    setText(this.dead, countText(d.dead))
    const now = Date.now()
    this.body.replaceChildren(
      ...d.latest.map((r) => {
        const tr = el('tr')
        tr.dataset.id = r.id
        tr.dataset.status = r.status
        const next = el('td', 'next')
        if (r.nextAttemptAt === null) next.textContent = '—'
        else {
          const t = el('time', '', whenText(r.nextAttemptAt, now))
          t.dateTime = r.nextAttemptAt
          next.append(t)
        }
        tr.append(
          el('td', 'label', r.label),
          el('td', 'seq', r.seq === null ? '—' : String(r.seq)),
          el('td', 'status', r.status),
          el('td', 'attempts', String(r.attempts)),
          el('td', 'last-error', r.lastError ?? '—'),
          next,
        )
        return tr
      }),
    )
    this.table.hidden = d.latest.length === 0
  }
}
