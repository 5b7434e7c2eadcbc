/**
 * @module The drawer's "Now" section: the instance's fields as a definition list, the monitor's
 * signals among them (synced, history sync progress, the close's own detail).
 */
import type { InstanceItem } from '../client/index.js'
import { el, setText } from './dom.js'
import type { DrawerSection } from './drawer.js'
import { changedText, historySyncText, phoneText, reasonText, retryText, sinceText, STATE_LABEL, syncedText } from './format.js'

const FIELDS = [
  ['state', 'State'],
  ['display', 'Status'],
  ['reason', 'Reason'],
  ['closeDetail', 'Close detail'],
  ['since', 'In state'],
  ['retry', 'Retry'],
  ['synced', 'Synced'],
  ['historySync', 'History sync'],
  ['number', 'Number'],
  ['profile', 'Profile name'],
  ['presence', 'Presence'],
  ['api', 'API name'],
  ['changed', 'Last change'],
] as const

type Field = (typeof FIELDS)[number][0]

export class SummarySection implements DrawerSection {
  readonly id = 'summary'
  readonly title = 'Now'
  readonly el: HTMLElement
  private readonly dd = new Map<Field, HTMLElement>()
  private readonly rows = new Map<Field, HTMLElement[]>()
  private item: InstanceItem | null = null

  constructor() {
    const dl = el('dl', 'summary')
    for (const [key, label] of FIELDS) {
      const dt = el('dt', '', label)
      const dd = el('dd')
      dd.dataset.field = key
      this.dd.set(key, dd)
      this.rows.set(key, [dt, dd])
      dl.append(dt, dd)
    }
    this.el = dl
  }

  open(item: InstanceItem, now: number): void {
    this.update(item, now)
  }

  update(item: InstanceItem, now: number): void {
    this.item = item
    const c = item.connection
    const badge = this.dd.get('state')!
    badge.className = 'badge'
    badge.dataset.state = c.state
    this.set('state', STATE_LABEL[c.state] ?? c.state)
    this.set('display', c.displayStatus)
    this.set('reason', reasonText(c.reason))
    this.set('closeDetail', c.closeDetail ?? '')
    this.set('synced', syncedText(c))
    this.set('historySync', historySyncText(c.historySync))
    this.set('number', phoneText(c.numberJid))
    this.set('profile', [item.profile.name, item.profile.isBusiness && item.profile.businessName !== item.profile.name ? item.profile.businessName : '']
      .filter((s) => s !== '')
      .join(' · '))
    this.set('presence', c.presenceStatus)
    this.set('api', item.apiInstanceName)
    this.dd.get('since')!.title = c.since
    this.dd.get('changed')!.title = item.updatedAt
    this.tick(now)
  }

  tick(now: number): void {
    const item = this.item
    if (item === null) return
    this.set('since', sinceText(item.connection.since, now))
    this.set('retry', retryText(item.connection.retryAt, now))
    this.set('changed', changedText(item.updatedAt, now))
  }

  close(): void {
    this.item = null
  }

  /** Empty fields are left out of the list rather than shown blank. */
  private set(key: Field, text: string): void {
    setText(this.dd.get(key)!, text)
    for (const e of this.rows.get(key)!) e.hidden = text === ''
  }
}
