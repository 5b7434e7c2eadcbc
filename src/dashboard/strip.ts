/**
 * @module The timeline strip: an instance's window (24 h) as coloured and patterned spans, one
 * per state, with a text equivalent for screen readers (the strip is one image with a label) and
 * a title per span for the pointer. Colour is never the only carrier: each state has its pattern.
 */
import { el } from './dom.js'
import { DAY_MS, spansOf, totals, type Span } from './day.js'
import { clockText, duration, STATE_LABEL, STATES } from './format.js'

interface Entry {
  at: string
  state: (typeof STATES)[number]
}

/** `connected 23h 10m, disconnected 50m, no record 0s` (states with time only, longest first). */
export function stripLabel(spans: readonly Span[]): string {
  const t = totals(spans)
  const parts: [string, number][] = STATES.map((s) => [STATE_LABEL[s], t[s]] as [string, number])
  parts.push(['no record', t.none])
  return parts
    .filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([label, ms]) => `${label} ${duration(ms)}`)
    .join(', ')
}

export class Strip {
  readonly el: HTMLElement
  private key = ''

  constructor(
    /** Prefix of the accessible label, e.g. `Last 24 hours of sales`. */
    private readonly title: string,
    className = '',
  ) {
    this.el = el('div', `strip ${className}`.trim())
    this.el.setAttribute('role', 'img')
  }

  /** Draws the window ending at `now`; a redraw with the same spans touches nothing. */
  render(history: readonly Entry[], now: number, windowMs = DAY_MS): Span[] {
    const spans = spansOf(history, now, windowMs)
    // Spans rounded to 0.1% of the window: the clock moving alone does not repaint.
    const step = windowMs / 1000
    const key = spans.map((s) => `${s.state}:${Math.round((s.to - s.from) / step)}`).join('|')
    if (key === this.key) return spans
    this.key = key
    const label = stripLabel(spans)
    this.el.setAttribute('aria-label', label === '' ? `${this.title}: no record` : `${this.title}: ${label}`)
    this.el.replaceChildren(
      ...spans.map((s) => {
        const span = el('span', 'span')
        span.dataset.state = s.state ?? 'none'
        span.style.width = `${((s.to - s.from) / windowMs) * 100}%`
        span.title = `${s.state === null ? 'no record' : STATE_LABEL[s.state]} ${clockText(new Date(s.from).toISOString())}–${clockText(new Date(s.to).toISOString())} (${duration(s.to - s.from)})`
        return span
      }),
    )
    return spans
  }
}
