/**
 * @module GET /api/instance/history/:instance (TokenAccount or the instance's token): the
 * instance's connection history newest first, its uptime over the last 24 h (or since creation),
 * and its liveness (the last frame from WhatsApp, and since when it is connected).
 */
import { HubError } from '../../../core/errors.js'
import { uptimeOf } from '../../../core/whatsapp/uptime.js'
import type { Hub } from '../../../hub/hub.js'
import type { Clock } from '../../../ports/clock.js'
import type { HistoryStore } from '../../../ports/history.js'
import type { WhatsAppControl } from '../../../ports/whatsapp.js'
import { sendOk } from '../http.js'
import type { Router } from '../route.js'

export const HISTORY_DEFAULT_LIMIT = 100
export const HISTORY_MAX_LIMIT = 1_000

export interface HistoryRouteDeps {
  hub: Hub
  store: HistoryStore
  wa: WhatsAppControl | null
  clock: Clock
  /** Writes queued rows before a read. */
  flush(): void
}

const iso = (ms: number) => new Date(ms).toISOString()

export function historyRoutes(r: Router, d: HistoryRouteDeps): void {
  r.add('get', '/api/instance/history/:instance', {}, (ctx, p) => {
    const inst = d.hub.resolveInstance(p, ctx.params[0]!)
    const limit = parseLimit(ctx.param('limit'))
    const since = parseSince(ctx.param('since'))
    d.flush()
    const now = d.clock.now()
    const history = d.store.recent(inst.id, { limit, ...(since === undefined ? {} : { sinceMs: since }) })
    const createdAt = Date.parse(inst.createdAt)
    const uptime = uptimeOf(d.store.since(inst.id, Math.max(now - 86_400_000, createdAt)), createdAt, now)
    const lastFrameAt = d.wa?.liveness(inst.id).lastFrameAt ?? null
    sendOk(ctx, `${history.length} ${history.length === 1 ? 'entry' : 'entries'} found`, {
      instance: inst.name,
      history: history.map((h) => ({ at: iso(h.at), seq: h.seq, state: h.state, reason: h.reason, displayStatus: h.displayStatus })),
      uptime,
      liveness: {
        lastFrameAt: lastFrameAt === null ? null : iso(lastFrameAt),
        connectedSince: inst.status.state === 'connected' ? inst.status.since : null,
      },
    })
  })
}

function parseLimit(raw: string | null): number {
  if (raw === null) return HISTORY_DEFAULT_LIMIT
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n < 1 || n > HISTORY_MAX_LIMIT) {
    throw new HubError('invalid', `Invalid field "limit": must be a whole number from 1 to ${HISTORY_MAX_LIMIT}`)
  }
  return n
}

function parseSince(raw: string | null): number | undefined {
  if (raw === null) return undefined
  const t = /^\d{4}-\d{2}-\d{2}T/.test(raw) ? Date.parse(raw) : NaN
  if (Number.isNaN(t)) throw new HubError('invalid', 'Invalid field "since": must be an ISO date-time (2026-03-01T12:00:00Z)')
  return t
}
