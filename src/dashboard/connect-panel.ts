/**
 * @module Linking a device: the QR from GET /api/instance/connect/:name, fetched again every
 * 15 s while the instance waits for a scan (WhatsApp rotates it about every 20 s), or a pairing
 * code for a typed number. The QR is never in the stream, so only this panel shows it.
 */
import { ApiError, instancePath, type Api } from './api.js'
import { el, setText } from './dom.js'

export const QR_REFRESH_MS = 15_000

export class ConnectPanel {
  readonly el: HTMLElement
  private readonly status: HTMLElement
  private readonly error: HTMLElement
  private readonly qr: HTMLImageElement
  private readonly code: HTMLElement
  private readonly number: HTMLInputElement
  private timer: ReturnType<typeof setTimeout> | null = null
  private closed = false
  /** Only the newest request may write to the panel. */
  private request = 0

  constructor(
    private readonly name: string,
    private readonly api: Api,
    /** Whether the instance still waits for a scan (read from the mirror at refresh time). */
    private readonly waiting: () => boolean,
    private readonly onClose: () => void,
  ) {
    const panel = el('section', 'panel')
    panel.setAttribute('aria-label', `Connect ${name}`)
    this.status = el('p', 'panel-status')
    this.status.setAttribute('role', 'status')
    this.error = el('p', 'panel-error')
    this.error.setAttribute('role', 'alert')
    this.qr = el('img', 'qr')
    this.qr.alt = `QR code to link ${name}`
    this.qr.hidden = true
    this.code = el('p', 'pairing-code')

    const form = el('form', 'pair')
    const id = `pair-${Math.random().toString(36).slice(2)}`
    const label = el('label', '', 'Or pair by phone number')
    label.htmlFor = id
    this.number = el('input')
    this.number.id = id
    this.number.inputMode = 'numeric'
    this.number.pattern = '[0-9]{6,20}'
    this.number.placeholder = 'digits, e.g. 5511999999999'
    this.number.autocomplete = 'off'
    const get = el('button', '', 'Get pairing code')
    get.type = 'submit'
    form.append(label, this.number, get)
    form.addEventListener('submit', (e) => {
      e.preventDefault()
      const digits = this.number.value.replace(/\D/g, '')
      if (digits !== '') void this.fetch(digits)
    })

    const close = el('button', 'panel-close', 'Close')
    close.type = 'button'
    close.addEventListener('click', () => this.close())
    panel.append(this.status, this.error, this.qr, this.code, form, close)
    this.el = panel
  }

  /** Asks for a QR now; later refreshes follow while the instance waits. */
  open(): void {
    void this.fetch(null)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.clearTimer()
    this.el.remove()
    this.onClose()
  }

  private async fetch(number: string | null): Promise<void> {
    const mine = ++this.request
    this.clearTimer()
    setText(this.status, number === null ? 'Requesting a QR code…' : 'Requesting a pairing code…')
    setText(this.error, '')
    const path = instancePath('/api/instance/connect', this.name) + (number === null ? '' : `?number=${encodeURIComponent(number)}`)
    try {
      const r = await this.api('GET', path)
      if (this.closed || mine !== this.request) return
      if (r.status === 'connected') {
        this.showQr(null)
        setText(this.code, '')
        setText(this.status, r.message ?? 'Connected')
        return
      }
      if (typeof r.qrCodeBase64 === 'string') {
        this.showQr(r.qrCodeBase64)
        setText(this.code, '')
        setText(this.status, 'Scan with WhatsApp → Linked devices → Link a device')
        this.schedule()
      } else if (typeof r.pairingCode === 'string') {
        this.showQr(null)
        setText(this.code, r.pairingCode)
        setText(this.status, 'Enter this code in WhatsApp → Linked devices → Link with phone number')
      }
    } catch (err) {
      if (this.closed || mine !== this.request) return
      setText(this.status, '')
      setText(this.error, err instanceof ApiError ? err.message : String(err))
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null
      if (!this.closed && this.waiting()) void this.fetch(null)
    }, QR_REFRESH_MS)
  }

  private showQr(src: string | null): void {
    this.qr.hidden = src === null
    if (src !== null && this.qr.src !== src) this.qr.src = src
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}
