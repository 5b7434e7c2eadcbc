/**
 * @module What the client does when its socket ends, by WebSocket close code (stream protocol:
 * close codes) or by the HTTP status of a refused upgrade.
 */

export type CloseAction =
  /** Terminal: reconnecting cannot help; the application must act (a new token). */
  | { kind: 'stop'; reason: string }
  /** Reconnect after a backoff delay and resume from the last position. */
  | { kind: 'reconnect'; rateLimited: boolean }

import { CLOSE } from '../protocol/close-codes.js'

export { CLOSE }

/**
 * `upgradeStatus` is the HTTP status of a refused upgrade when the platform reveals it (Node's `ws`
 * does, browsers do not: there a refused upgrade looks like any 1006 and is retried).
 */
export function closeAction(code: number, upgradeStatus: number | null): CloseAction {
  if (code === CLOSE.tokenRevoked) return { kind: 'stop', reason: 'token revoked' }
  if (upgradeStatus === 401) return { kind: 'stop', reason: 'token refused (HTTP 401)' }
  if (upgradeStatus === 403) return { kind: 'stop', reason: 'token not allowed (HTTP 403)' }
  if (code === CLOSE.rateLimited || upgradeStatus === 429) return { kind: 'reconnect', rateLimited: true }
  return { kind: 'reconnect', rateLimited: false }
}
