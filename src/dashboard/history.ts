/**
 * @module An instance's record from the hub: `GET /api/instance/history/:instance` (the
 * transitions newest first, the 24 h uptime, liveness). A hub without that route answers 404
 * "Not found"; the drawer then shows what the stream has shown since the page opened. An unknown
 * instance answers 404 "Instance not found", which is not that.
 */
import { ApiError, instancePath, type Api } from './api.js'
import { STATES, type State } from './format.js'
import type { Reason, Transition } from './timeline.js'

/** The hub's message for a route it does not have (core/errors `notFound`). */
export const NO_ROUTE = 'Not found'

/** Entries asked for: more than a day of flapping at a few changes an hour, the endpoint's maximum. */
export const HISTORY_LIMIT = 1000

export type HistoryAnswer =
  | {
      kind: 'hub'
      /** Newest first. */
      entries: Transition[]
      uptime: { share24h: number; connectedMs: number; windowMs: number } | null
      liveness: { lastFrameAt: string | null; connectedSince: string | null } | null
    }
  /** The hub has no history route (yet). */
  | { kind: 'none' }
  /** The instance does not exist (any more). */
  | { kind: 'gone'; message: string }
  | { kind: 'error'; message: string }

export async function fetchHistory(api: Api, name: string): Promise<HistoryAnswer> {
  let r: Record<string, any>
  try {
    r = await api('GET', `${instancePath('/api/instance/history', name)}?limit=${HISTORY_LIMIT}`)
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return err.message === NO_ROUTE ? { kind: 'none' } : { kind: 'gone', message: err.message }
    return { kind: 'error', message: err instanceof Error ? err.message : String(err) }
  }
  if (!Array.isArray(r.history)) return { kind: 'error', message: 'The hub answered without a history' }
  const entries: Transition[] = []
  for (const e of r.history as unknown[]) {
    const t = entryOf(e)
    if (t !== null) entries.push(t)
  }
  const u = r.uptime
  const l = r.liveness
  return {
    kind: 'hub',
    entries,
    uptime:
      typeof u?.share24h === 'number' && typeof u.connectedMs === 'number' && typeof u.windowMs === 'number'
        ? { share24h: u.share24h, connectedMs: u.connectedMs, windowMs: u.windowMs }
        : null,
    liveness: typeof l === 'object' && l !== null ? { lastFrameAt: isoOrNull(l.lastFrameAt), connectedSince: isoOrNull(l.connectedSince) } : null,
  }
}

/**
 * The hub's entries with the stream's newer ones in front: whatever changed after the answer
 * (a larger `seq` than its newest entry) is taken from the stream.
 */
export function withLive(hub: readonly Transition[], live: readonly Transition[]): Transition[] {
  const newest = hub.reduce((m, e) => (e.seq !== null && e.seq > m ? e.seq : m), -1)
  return [...live.filter((e) => e.seq !== null && e.seq > newest), ...hub]
}

function entryOf(v: unknown): Transition | null {
  if (typeof v !== 'object' || v === null) return null
  const e = v as Record<string, unknown>
  if (typeof e.at !== 'string' || !(STATES as readonly unknown[]).includes(e.state)) return null
  return {
    at: e.at,
    seq: typeof e.seq === 'number' ? e.seq : null,
    state: e.state as State,
    reason: reasonOf(e.reason),
    displayStatus: typeof e.displayStatus === 'string' ? e.displayStatus : '',
  }
}

function reasonOf(v: unknown): Reason {
  if (typeof v !== 'object' || v === null) return null
  const r = v as Record<string, unknown>
  if (typeof r.name !== 'string') return null
  return { code: typeof r.code === 'number' ? r.code : null, name: r.name, message: typeof r.message === 'string' ? r.message : '' }
}

function isoOrNull(v: unknown): string | null {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : null
}
