/**
 * @module An instance's day as spans of state over a window (24 h by default), and the share of
 * it spent connected, from a history (newest first, the history endpoint's order). Each entry
 * holds until the next newer one; before the oldest entry nothing is known. Pure; `now` is passed in.
 */
import type { State } from './format.js'

export const DAY_MS = 86_400_000

export interface Span {
  /** null: no record (before the oldest entry, or before the instance existed). */
  state: State | null
  from: number
  to: number
}

export interface Uptime {
  /** Connected share of the known part of the window, 0..1; null when nothing is known. */
  share: number | null
  connectedMs: number
  /** The known part of the window (the window, or less when the history starts inside it). */
  windowMs: number
}

interface Entry {
  at: string
  state: State
}

/** The window [now − windowMs, now] as spans, oldest first; adjacent spans of one state merged. */
export function spansOf(history: readonly Entry[], now: number, windowMs = DAY_MS): Span[] {
  const start = now - windowMs
  // Oldest first before sorting: entries of the same instant keep their order (the sort is stable).
  const points = [...history]
    .reverse()
    .map((e) => ({ at: Date.parse(e.at), state: e.state }))
    .filter((p) => !Number.isNaN(p.at))
    .sort((a, b) => a.at - b.at)
  const out: Span[] = []
  const push = (state: State | null, from: number, to: number) => {
    const f = Math.max(from, start)
    const t = Math.min(to, now)
    if (t <= f) return
    const last = out[out.length - 1]
    if (last !== undefined && last.state === state && last.to === f) last.to = t
    else out.push({ state, from: f, to: t })
  }
  push(null, start, points.length === 0 ? now : points[0]!.at)
  points.forEach((p, i) => push(p.state, p.at, i + 1 < points.length ? points[i + 1]!.at : now))
  return out
}

export function uptimeOf(history: readonly Entry[], now: number, windowMs = DAY_MS): Uptime {
  let known = 0
  let connected = 0
  for (const s of spansOf(history, now, windowMs)) {
    if (s.state === null) continue
    known += s.to - s.from
    if (s.state === 'connected') connected += s.to - s.from
  }
  return { share: known === 0 ? null : connected / known, connectedMs: connected, windowMs: known }
}

/** Milliseconds spent in each state within the spans (no-record time under `none`). */
export function totals(spans: readonly Span[]): Record<State | 'none', number> {
  const out: Record<State | 'none', number> = { connected: 0, connecting: 0, disconnected: 0, loggedout: 0, none: 0 }
  for (const s of spans) out[s.state ?? 'none'] += s.to - s.from
  return out
}
