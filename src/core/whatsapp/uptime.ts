/**
 * @module Uptime from the connection history: the share of a window the instance was connected.
 * Pure: the rows and the clock come in.
 */
import type { ConnectionState } from '../status.js'

export interface StateAt {
  at: number
  state: ConnectionState
}

export interface Uptime {
  /** connectedMs / windowMs, 0–1 (rounded to 4 decimals). */
  share24h: number
  connectedMs: number
  /** 24 h, or the instance's age when it is younger. */
  windowMs: number
}

export const DAY_MS = 86_400_000

/**
 * `rows` oldest first, the first one possibly before the window (the state at its start). Time
 * before the first known row counts as not connected.
 */
export function uptimeOf(rows: readonly StateAt[], createdAt: number, now: number): Uptime {
  const start = Math.min(now, Math.max(now - DAY_MS, createdAt))
  const windowMs = now - start
  let connectedMs = 0
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!
    if (row.state !== 'connected') continue
    const from = Math.max(row.at, start)
    const to = Math.min(rows[i + 1]?.at ?? now, now)
    if (to > from) connectedMs += to - from
  }
  const last = rows[rows.length - 1]
  const share = windowMs === 0 ? (last?.state === 'connected' ? 1 : 0) : connectedMs / windowMs
  return { share24h: Math.round(share * 10_000) / 10_000, connectedMs, windowMs }
}
