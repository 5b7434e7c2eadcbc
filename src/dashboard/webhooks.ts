/**
 * @module An instance's webhooks and the state of their deliveries, as the hub answers them:
 * `GET /api/events/getWebhook/:instance` (which webhooks exist), `GET
 * /api/events/webhookDeliveries/:instance` (pending and dead counted from a page of each status,
 * the latest from an unfiltered page) and `POST …/retry` `{}` (the dead ones of every enabled
 * webhook back to pending). Parsing is defensive: a field of the wrong type reads as absent.
 */
import { instancePath, type Api } from './api.js'

/** The endpoint's largest page: a count that reaches it says "or more". */
export const COUNT_LIMIT = 500

/** Deliveries listed, newest first. */
export const LATEST = 10

export interface Hook {
  label: string
  enabled: boolean
  url: string
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead'

export interface DeliveryRow {
  id: string
  label: string
  event: string
  seq: number | null
  status: DeliveryStatus
  attempts: number
  lastError: string | null
  /** Only while pending. */
  nextAttemptAt: string | null
}

export interface Deliveries {
  pending: number
  dead: number
  /** Newest first, at most LATEST. */
  latest: DeliveryRow[]
}

const STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'dead']

export async function fetchHooks(api: Api, name: string): Promise<Hook[]> {
  const r = await api('GET', instancePath('/api/events/getWebhook', name))
  const list: unknown[] = Array.isArray(r.webhooks) ? r.webhooks : []
  const out: Hook[] = []
  for (const v of list) {
    if (typeof v !== 'object' || v === null) continue
    const w = v as Record<string, unknown>
    if (typeof w.label !== 'string') continue
    out.push({ label: w.label, enabled: w.enabled === true, url: typeof w.url === 'string' ? w.url : '' })
  }
  return out
}

export async function fetchDeliveries(api: Api, name: string): Promise<Deliveries> {
  const path = instancePath('/api/events/webhookDeliveries', name)
  const [pending, dead, latest] = await Promise.all([
    api('GET', `${path}?status=pending&limit=${COUNT_LIMIT}`),
    api('GET', `${path}?status=dead&limit=${COUNT_LIMIT}`),
    api('GET', `${path}?limit=${LATEST}`),
  ])
  return { pending: rowsOf(pending).length, dead: rowsOf(dead).length, latest: rowsOf(latest).slice(0, LATEST) }
}

/** Re-queues the dead deliveries of every enabled webhook; the hub's `requeued`. */
export async function retryDead(api: Api, name: string): Promise<number> {
  const r = await api('POST', `${instancePath('/api/events/webhookDeliveries', name)}/retry`, {})
  return typeof r.requeued === 'number' ? r.requeued : 0
}

/** `3`, or `500 or more` when the count filled the page. */
export function countText(n: number): string {
  return n >= COUNT_LIMIT ? `${COUNT_LIMIT} or more` : String(n)
}

/** `Re-queued 3 dead deliveries.` */
export function requeuedText(n: number): string {
  return n === 0 ? 'Nothing to re-queue: no dead deliveries of an enabled webhook.' : `Re-queued ${n} dead ${n === 1 ? 'delivery' : 'deliveries'}.`
}

export function rowsOf(answer: Record<string, unknown>): DeliveryRow[] {
  const list: unknown[] = Array.isArray(answer.deliveries) ? answer.deliveries : []
  const out: DeliveryRow[] = []
  for (const v of list) {
    if (typeof v !== 'object' || v === null) continue
    const d = v as Record<string, unknown>
    if (typeof d.id !== 'string' || !(STATUSES as readonly unknown[]).includes(d.status)) continue
    out.push({
      id: d.id,
      label: typeof d.label === 'string' ? d.label : '',
      event: typeof d.event === 'string' ? d.event : '',
      seq: typeof d.seq === 'number' ? d.seq : null,
      status: d.status as DeliveryStatus,
      attempts: typeof d.attempts === 'number' ? d.attempts : 0,
      lastError: typeof d.lastError === 'string' ? d.lastError : null,
      nextAttemptAt: typeof d.nextAttemptAt === 'string' && !Number.isNaN(Date.parse(d.nextAttemptAt)) ? d.nextAttemptAt : null,
    })
  }
  return out
}
