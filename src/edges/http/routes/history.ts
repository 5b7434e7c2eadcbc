/**
 * @module GET /api/instance/history/:instance (TokenAccount or the instance's token): the
 * instance's connection history newest first, its uptime over the last 24 h (or since creation),
 * and its liveness (the last frame from WhatsApp, and since when it is connected).
 */
import { uptimeOf } from '../../../core/whatsapp/uptime.js'
import type { Hub } from '../../../hub/hub.js'
import type { Clock } from '../../../ports/clock.js'
import type { HistoryStore } from '../../../ports/history.js'
import type { WhatsAppControl } from '../../../ports/whatsapp.js'
import { historyQuery } from '../../../protocol/rest-bodies.js'
import { historyAnswer } from '../../../protocol/rest-responses.js'
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
  r.add(
    'get',
    '/api/instance/history/:instance',
    {
      tag: 'WhatsApp lifecycle',
      description:
        "The instance's connection history, newest first (one entry per change of connection.state or connection.reason, kept at least HUB_HISTORY_DAYS), its uptime over the last 24 h (or since it was created), and its liveness.",
      query: historyQuery,
      response: historyAnswer,
    },
    (ctx, p, _b, q) => {
    const inst = d.hub.resolveInstance(p, ctx.params[0]!)
    const limit = q.limit
    const since = q.since === undefined ? undefined : Date.parse(q.since)
    d.flush()
    const now = d.clock.now()
    const history = d.store.recent(inst.id, { limit, ...(since === undefined ? {} : { sinceMs: since }) })
    const createdAt = Date.parse(inst.createdAt)
    const uptime = uptimeOf(d.store.since(inst.id, Math.max(now - 86_400_000, createdAt)), createdAt, now)
    const answer = (lastFrameAt: number | null) =>
      sendOk(ctx, `${history.length} ${history.length === 1 ? 'entry' : 'entries'} found`, {
        instance: inst.name,
        history: history.map((h) => ({ at: iso(h.at), seq: h.seq, state: h.state, reason: h.reason, displayStatus: h.displayStatus })),
        uptime,
        liveness: {
          lastFrameAt: lastFrameAt === null ? null : iso(lastFrameAt),
          connectedSince: inst.status.state === 'connected' ? inst.status.since : null,
        },
      })
    const live = d.wa?.liveness(inst.id) ?? null
    // Synchronous where the socket is local; a cluster node may have to ask another.
    if (live instanceof Promise) return live.then((l) => answer(l.lastFrameAt))
    answer(live === null ? null : live.lastFrameAt)
    },
  )
}
