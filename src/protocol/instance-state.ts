/**
 * @module RyzeAPI's `instance.state` event (webhooks contract), as `GET /ws/:instance` sends it and
 * webhooks deliver it: the event word in `data.state`, the list's state in `data.connectionState`,
 * `data.timestamp` the time of the change. Never a token, never a QR.
 */
import type { RyzeItem } from '../core/item.js'
import type { EventWord } from '../core/status.js'

export interface StateEventSource {
  instance: string
  apiInstanceName: string
  /** ISO time of the change. */
  time: string
  event: EventWord
  connection: Readonly<RyzeItem['connection']>
}

export function stateEvent(s: StateEventSource) {
  const c = s.connection
  return {
    event: 'instance.state' as const,
    data: {
      state: s.event,
      timestamp: s.time,
      connectionState: c.state,
      numberJid: c.numberJid,
      presenceStatus: c.presenceStatus,
      displayStatus: c.displayStatus,
      reason: c.reason,
      retryAt: c.retryAt,
      since: c.since,
      synced: c.synced,
      historySync: c.historySync,
      closeDetail: c.closeDetail,
    },
    instanceData: { instance: s.instance, apiInstanceName: s.apiInstanceName },
  }
}

/** Whether a change is an `instance.state` event: its connection (presence included) or profile changed. */
export function isStateChange(kind: string, changes: Readonly<Record<string, unknown>> | null): boolean {
  if (kind !== 'diff' || changes === null) return false
  for (const path in changes) if (path.startsWith('connection.') || path.startsWith('profile.')) return true
  return false
}
