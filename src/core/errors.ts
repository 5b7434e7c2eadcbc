/**
 * @module The one error type every layer throws for a condition the caller caused or can act on
 * (bad input, no access, a limit, a WhatsApp failure). It names a kind, never a transport status:
 * each edge maps kinds to its own codes (HTTP in edges/http/status.ts). Anything else thrown is a
 * bug and becomes an internal error.
 */
export type ErrorKind =
  /** The request is malformed or names something invalid. */
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'notFound'
  /** It clashes with the current state (a name in use, nothing to scan). */
  | 'conflict'
  | 'rateLimited'
  /** WhatsApp (or another service the hub depends on) refused or failed. */
  | 'upstream'
  /** The hub cannot do it now (shutting down, a feature not enabled). */
  | 'unavailable'
  /** Waiting for WhatsApp ran out of time. */
  | 'timeout'

export class HubError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** For `rateLimited`: when to try again, in seconds. */
    readonly retryAfterS?: number,
  ) {
    super(message)
    this.name = 'HubError'
  }
}

/** The literal messages clients match on (RyzeAPI's wording). */
export const MSG = {
  missingToken: 'Missing token in header, Authorization header, or query parameter',
  invalidToken: 'Invalid token',
  noAccess: 'Token does not have access to this instance',
  adminOnly: 'Admin token required',
  accountOnly: 'Account token required',
  instanceNotFound: 'Instance not found',
  accountNotFound: 'Account not found',
  notFound: 'Not found',
  methodNotAllowed: 'Method not allowed',
  rateLimited: 'Rate limit exceeded. Try again later.',
  invalidBody: 'Invalid request body',
  nameInUse: 'Instance name already in use',
  accountNameInUse: 'Account name already in use',
  quotaExceeded: 'Account instance quota exceeded',
  /**
   * One answer for every refused custom token (malformed, or in use by anyone), so creation cannot
   * be used to learn whether a token exists.
   */
  tokenRefused: 'Invalid field "token": choose another token of 32–128 printable characters',
  websocketNotConfigured: 'WebSocket not configured for this instance',
  internal: 'Internal server error',
} as const
